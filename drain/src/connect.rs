//! Connecting to the NATS server: credentials, a bounded first connect, endless reconnects.

use crate::error::DrainError;
use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How to reach the server.
#[derive(Clone, Default)]
pub struct ConnectConfig {
    /// User name (with [`password`](Self::password)); credentials in the URL
    /// (`nats://user:pass@host:port`) work too.
    pub user: Option<String>,
    /// Password for [`user`](Self::user).
    pub password: Option<String>,
    /// Authentication token.
    pub token: Option<String>,
    /// How long the first connection may take, retries included (default 10 s). Once
    /// connected, the client reconnects forever.
    pub timeout: Option<Duration>,
    /// Told about disconnects, reconnects and server errors (e.g. to print them).
    pub on_event: Option<Arc<dyn Fn(String) + Send + Sync>>,
}

impl std::fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Connects to `url`, retrying a refused or timed-out connection with backoff until the
/// timeout; a malformed URL or refused credentials fail at once.
pub async fn connect(url: &str, config: &ConnectConfig) -> Result<async_nats::Client, DrainError> {
    let timeout = config.timeout.unwrap_or(Duration::from_secs(10));
    let deadline = Instant::now() + timeout;
    let mut wait = Duration::from_millis(50);
    let shown = redact(url);
    let fail = |reason: String| DrainError::Connect {
        url: shown.clone(),
        reason,
    };
    let addr: async_nats::ServerAddr = url
        .parse()
        .map_err(|e: std::io::Error| fail(format!("malformed URL: {e}")))?;
    let mut config = config.clone();
    // async-nats does not use credentials embedded in the URL: take them from it.
    match (addr.username(), addr.password()) {
        (Some(u), Some(p)) if config.user.is_none() => {
            config.user = Some(u.to_string());
            config.password = Some(p.to_string());
        }
        (Some(t), None) if config.token.is_none() => config.token = Some(t.to_string()),
        _ => {}
    }
    if config.user.is_some() != config.password.is_some() {
        return Err(DrainError::InvalidOption(
            "a user needs a password and a password a user".to_string(),
        ));
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut opts = ConnectOptions::new()
            .connection_timeout(left.clamp(Duration::from_millis(100), Duration::from_secs(5)))
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(50u64.saturating_mul(1 << attempts.min(6)))
                    .min(Duration::from_secs(2))
            })
            .name("tidelog-drain");
        if let (Some(u), Some(p)) = (&config.user, &config.password) {
            opts = opts.user_and_password(u.clone(), p.clone());
        }
        if let Some(t) = &config.token {
            opts = opts.token(t.clone());
        }
        if let Some(cb) = &config.on_event {
            let cb = Arc::clone(cb);
            opts = opts.event_callback(move |e: Event| {
                let cb = Arc::clone(&cb);
                async move { cb(format!("nats: {e}")) }
            });
        }
        match opts.connect(addr.clone()).await {
            Ok(client) => return Ok(client),
            Err(e) => {
                let permanent = matches!(
                    e.kind(),
                    ConnectErrorKind::ServerParse
                        | ConnectErrorKind::Authentication
                        | ConnectErrorKind::AuthorizationViolation
                        | ConnectErrorKind::Tls
                );
                if permanent {
                    return Err(fail(e.to_string()));
                }
                if Instant::now() + wait >= deadline {
                    return Err(fail(format!("{e} (gave up after {timeout:?})")));
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// `url` with the password (or token) of its user part replaced by `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let shown = match user.split_once(':') {
                Some((u, _)) => format!("{u}:***"),
                None => "***".to_string(),
            };
            format!("{}{shown}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_and_tokens_never_reach_messages() {
        assert_eq!(super::redact("nats://u:pw@h:1"), "nats://u:***@h:1");
        assert_eq!(super::redact("nats://tok@h"), "nats://***@h");
        assert_eq!(super::redact("nats://h:4222"), "nats://h:4222");
    }
}

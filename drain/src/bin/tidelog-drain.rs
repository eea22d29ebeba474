//! `tidelog-drain`: delivers a tidelog log into a NATS JetStream stream, exactly once.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidelog::{Config, Durability, Error, SharedFileLog};
use tidelog_drain::{connect, ConnectConfig, Drain, DrainError, DrainLog, DrainOptions};

const USAGE: &str = "\
usage: tidelog-drain (--log PATH | --image PATH | --logdir DIR --logdir-stream NAME)
                     --source-id ID --subject SUBJECT [options]

Publishes every record from the consumer's committed offset on, and commits the consumer up
to the records the stream acknowledged. Runs until SIGINT/SIGTERM (or --once).

  --log PATH              a log file; opened for writing (commits, --trim). If another
                          process holds it, tails it read-only: exactly once still, but no
                          commit and no trim
  --image PATH            a raw image (flash dump): read-only, one pass, no commit
  --logdir DIR --logdir-stream NAME
                          a stream of a grouped store (tidelog::group::LogDir): read-only,
                          one pass (a stream file holds no consumer cursor, and the store
                          moves a growing stream to a larger file: rerun to pick up more;
                          each run resumes after the stream's last offset), no commit
  --source-id ID          names the log in message ids <ID>:<offset> (letters, digits, - _)
  --subject SUBJECT       subject to publish on
  --stream NAME           stream capturing SUBJECT (default TIDELOG_<ID>; created if absent)
  --consumer NAME         the log consumer that records delivery (default nats)
  --nats URL              server (default nats://127.0.0.1:4222; nats://user:pass@host works)
  --user USER             user name (password from --password or $NATS_PASSWORD)
  --password PASS         password
  --token TOKEN           token (or $NATS_TOKEN)
  --trim                  trim the delivered prefix (never past another consumer)
  --once                  stop when every record present is delivered
  --max-in-flight N       publishes awaiting their ack at most (default 4096)
  --ack-timeout SECS      wait for an ack at most (default 5)
  --connect-timeout SECS  first connection, retries included (default 10)
  --duplicate-window SECS duplicate window of a stream the drain creates (default 120)
  --accept-loss           go on when the log dropped undelivered records (leaves a gap)
  --progress / --no-progress   progress line on stderr (default: when it is a terminal)
  --help, --version

Exit status: 0 done, 2 bad options, 3 server (unreachable, credentials, JetStream),
4 incompatible stream, 5 log (unreadable or corrupt record: the message names the offset).";

struct Args {
    log: Option<String>,
    logdir: Option<(String, String)>,
    image: Option<String>,
    options: DrainOptions,
    nats: String,
    connect: ConnectConfig,
    progress: Option<bool>,
}

fn parse(argv: Vec<String>) -> Result<Args, String> {
    let mut it = argv.into_iter();
    let mut log = None;
    let mut image = None;
    let (mut logdir, mut logdir_stream) = (None, None);
    let mut source_id = None;
    let mut subject = None;
    let mut stream = None;
    let mut consumer = None;
    let mut nats = "nats://127.0.0.1:4222".to_string();
    let mut connect = ConnectConfig::default();
    let mut progress = None;
    let (mut trim, mut once, mut accept_loss) = (false, false, false);
    let (mut in_flight, mut ack_timeout, mut dup_window) = (None, None, None);
    fn secs(v: &str, name: &str) -> Result<Duration, String> {
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("{name} {v:?}: a positive number of seconds"))
    }
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--log" => log = Some(value()?),
            "--image" => image = Some(value()?),
            "--logdir" => logdir = Some(value()?),
            "--logdir-stream" => logdir_stream = Some(value()?),
            "--source-id" => source_id = Some(value()?),
            "--subject" => subject = Some(value()?),
            "--stream" => stream = Some(value()?),
            "--consumer" => consumer = Some(value()?),
            "--nats" => nats = value()?,
            "--user" => connect.user = Some(value()?),
            "--password" => connect.password = Some(value()?),
            "--token" => connect.token = Some(value()?),
            "--trim" => trim = true,
            "--once" => once = true,
            "--accept-loss" => accept_loss = true,
            "--progress" => progress = Some(true),
            "--no-progress" => progress = Some(false),
            "--max-in-flight" => {
                let v = value()?;
                in_flight = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("--max-in-flight {v:?}: a number"))?,
                )
            }
            "--ack-timeout" => ack_timeout = Some(secs(&value()?, "--ack-timeout")?),
            "--connect-timeout" => connect.timeout = Some(secs(&value()?, "--connect-timeout")?),
            "--duplicate-window" => dup_window = Some(secs(&value()?, "--duplicate-window")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let logdir = match (logdir, logdir_stream) {
        (Some(d), Some(s)) => Some((d, s)),
        (None, None) => None,
        _ => return Err("--logdir and --logdir-stream go together".to_string()),
    };
    let modes = [log.is_some(), image.is_some(), logdir.is_some()];
    if modes.iter().filter(|&&m| m).count() != 1 {
        return Err(
            "give exactly one of --log PATH, --image PATH and --logdir DIR --logdir-stream NAME"
                .to_string(),
        );
    }
    let source_id = source_id.ok_or("--source-id is required")?;
    let subject = subject.ok_or("--subject is required")?;
    if connect.user.is_some() && connect.password.is_none() {
        connect.password = std::env::var("NATS_PASSWORD").ok();
    }
    if connect.token.is_none() {
        connect.token = std::env::var("NATS_TOKEN").ok().filter(|t| !t.is_empty());
    }
    let mut options = DrainOptions::new(source_id, subject);
    if let Some(s) = stream {
        options.stream = s;
    }
    if let Some(c) = consumer {
        options.consumer = c;
    }
    if let Some(n) = in_flight {
        options.max_in_flight = n;
    }
    if let Some(t) = ack_timeout {
        options.ack_timeout = t;
    }
    if let Some(w) = dup_window {
        options.duplicate_window = w;
    }
    options.trim = trim;
    options.follow = !once && image.is_none();
    options.accept_loss = accept_loss;
    options.validate().map_err(|e| e.to_string())?;
    if logdir.is_some() {
        // No cursor to commit in a stream file, so nothing to trim up to either; one pass,
        // because a growing stream moves to a new file that an open handle never sees.
        options.trim = false;
        options.follow = false;
    }
    Ok(Args {
        log,
        logdir,
        image,
        options,
        nats,
        connect,
        progress,
    })
}

/// Opens the log: for writing, or read-only when another process writes it (said on
/// stderr, with what that costs).
fn open(args: &mut Args) -> Result<DrainLog, DrainError> {
    if let Some(path) = &args.image {
        return Ok(SharedFileLog::open_read_only(path)?);
    }
    if let Some((dir, stream)) = &args.logdir {
        let path = tidelog::group::LogDir::open(dir)?.stream_path(stream)?;
        return Ok(SharedFileLog::open_read_only(path)?);
    }
    let path = args.log.as_deref().unwrap_or_default();
    match SharedFileLog::open(path, Config::new(), Durability::Explicit) {
        Ok(log) => Ok(log),
        Err(e) if e.kind() == Error::Locked => {
            eprintln!(
                "tidelog-drain: {path} is locked by its writer: tailing it read-only. Delivery \
                 stays exactly once (the stream's last offset says where to resume), but the \
                 consumer {:?} is not committed{}; hand the drain the writer's handle (the \
                 library's Drain) or run it when the writer is gone to commit.",
                args.options.consumer,
                if args.options.trim {
                    " and --trim is off"
                } else {
                    ""
                }
            );
            args.options.trim = false;
            Ok(SharedFileLog::open_read_only(path)?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run(mut args: Args) -> Result<(), DrainError> {
    let log = Arc::new(open(&mut args)?);
    let drain = Drain::new(log, args.options.clone())?;
    let terminal = args
        .progress
        .unwrap_or_else(|| std::io::stderr().is_terminal());
    let mut connect_cfg = args.connect.clone();
    connect_cfg.on_event = Some(Arc::new(move |m: String| {
        if terminal {
            eprint!("\r\x1b[K");
        }
        eprintln!("tidelog-drain: {m}");
    }));
    let client = connect(&args.nats, &connect_cfg).await?;
    let progress = drain.progress();
    let reporter = tokio::spawn(async move {
        let started = Instant::now();
        let mut last_problem = None;
        let mut ticker = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticker.tick().await;
            let p = progress.snapshot();
            if p.problem != last_problem {
                if let Some(m) = &p.problem {
                    if terminal {
                        eprint!("\r\x1b[K");
                    }
                    eprintln!("tidelog-drain: retrying: {m}");
                }
                last_problem = p.problem.clone();
            }
            if terminal {
                let rate = p.delivered as f64 / started.elapsed().as_secs_f64().max(1e-3);
                eprint!(
                    "\r\x1b[K{} delivered ({rate:.0} records/s), next offset {}, lag {}",
                    p.delivered,
                    p.delivered_next,
                    p.lag()
                );
                let _ = std::io::stderr().flush();
            }
        }
    });
    let result = drain.run(client, shutdown_signal()).await;
    reporter.abort();
    if terminal {
        eprint!("\r\x1b[K");
    }
    let report = result?;
    let stream = &drain.options().stream;
    match report.committed {
        Some(c) => eprintln!(
            "tidelog-drain: delivered {} records to stream {stream}; every offset below {} is in \
             the stream; consumer {:?} committed at {c}",
            report.delivered,
            report.delivered_next,
            drain.options().consumer
        ),
        None => eprintln!(
            "tidelog-drain: delivered {} records to stream {stream}; every offset below {} is in \
             the stream (read-only log: nothing committed)",
            report.delivered, report.delivered_next
        ),
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if argv.iter().any(|a| a == "--version") {
        println!("tidelog-drain {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tidelog-drain: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tidelog-drain: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidelog-drain: error: {e}");
            ExitCode::from(e.exit_status())
        }
    }
}

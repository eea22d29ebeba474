//! The peer's queue (sequential-storage 8, uncached): push, peek, iterate, pop — the queue's
//! equivalents of append, read, iterate and trim (it has no separate mount: every call scans
//! the pages). Driven by a blocking poll loop over the same flash stub.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
mod rt;

use core::hint::black_box;
use rt::{block_on, StubFlash, CAPACITY};
use sequential_storage::cache::Cache;
use sequential_storage::queue::{QueueConfig, QueueStorage};

type Queue = QueueStorage<
    StubFlash,
    Cache<
        sequential_storage::cache::Uncached,
        sequential_storage::cache::Uncached,
        sequential_storage::cache::Uncached,
    >,
>;

#[link_section = ".footprint_info"]
#[used]
static INFO: [rt::Info; 1] = [rt::info(
    "size_of QueueStorage",
    core::mem::size_of::<Queue>(),
)];

fn app() -> ! {
    let mut q: Queue = QueueStorage::new(
        StubFlash::take(),
        QueueConfig::new(0..CAPACITY as u32),
        Cache::new_uncached(),
    );
    let mut buf = [0u8; 64];
    loop {
        let n = rt::opaque_len(rt::DATA.len());
        let _ = black_box(block_on(q.push(&rt::DATA[..n], black_box(true))).is_ok());
        let _ = black_box(block_on(q.peek(&mut buf)).map(|r| r.map(|d| d.len())));
        block_on(async {
            if let Ok(mut it) = q.iter().await {
                while let Ok(Some(e)) = it.next(&mut buf).await {
                    black_box(e.len());
                }
            }
        });
        let _ = black_box(block_on(q.pop(&mut buf)).map(|r| r.map(|d| d.len())));
    }
}

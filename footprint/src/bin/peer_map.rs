//! The peer's map (sequential-storage 8, uncached, `u32` keys, byte-slice values): store,
//! fetch, remove, iterate — the map's equivalents of set, get, delete and a scan. Driven by a
//! blocking poll loop over the same flash stub.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
mod rt;

use core::hint::black_box;
use rt::{block_on, StubFlash, CAPACITY};
use sequential_storage::cache::Cache;
use sequential_storage::map::{MapConfig, MapStorage};

type Map = MapStorage<
    u32,
    StubFlash,
    Cache<
        sequential_storage::cache::Uncached,
        sequential_storage::cache::Uncached,
        sequential_storage::cache::Uncached,
        u32,
    >,
>;

#[link_section = ".footprint_info"]
#[used]
static INFO: [rt::Info; 1] = [rt::info("size_of MapStorage", core::mem::size_of::<Map>())];

fn app() -> ! {
    let mut map: Map = MapStorage::new(
        StubFlash::take(),
        MapConfig::new(0..CAPACITY as u32),
        Cache::new_uncached(),
    );
    let mut buf = [0u8; 128];
    loop {
        let n = rt::opaque_len(rt::DATA.len());
        let key = black_box(7u32);
        let _ = black_box(block_on(map.store_item(&mut buf, &key, &&rt::DATA[..n])).is_ok());
        let _ = black_box(
            block_on(map.fetch_item::<&[u8]>(&mut buf, &key)).map(|v| v.map(|d| d.len())),
        );
        let _ = black_box(block_on(map.remove_item(&mut buf, &black_box(3u32))).is_ok());
        block_on(async {
            if let Ok(mut it) = map.fetch_all_items(&mut buf).await {
                while let Ok(Some((k, v))) = it.next::<&[u8]>(&mut buf).await {
                    black_box((k, v.len()));
                }
            }
        });
    }
}

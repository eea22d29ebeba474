//! Every public function of `tidelog::format` and `tidelog::kv::format` returns for every
//! input — arbitrary bytes, arbitrary (insane) layouts and headers, any lengths — without a
//! panic, an overflow or a division by zero (review finding F3: `decode_fixed` indexed a slice
//! without a length check, the state encoders wrote past short slices, a hand-built `Layout`
//! divided by zero). The test profile runs with overflow checks, so an overflow fails here too.

use proptest::prelude::*;
use tidelog::format::frame::{self, FrameKind, VarintDecoder, MAX_VARINT_LEN};
use tidelog::format::header::{self, FixedHeader, FIXED_HEADER_LEN};
use tidelog::format::index::{self, Slot, SLOT_LEN};
use tidelog::format::layout::Layout;
use tidelog::format::state::{self, StateView, MIN_STATE_LEN};
use tidelog::format::{align_up, crc32c, crc_checked, is_erased};
use tidelog::kv::format::{self as kvf, KvHeader};

fn layout() -> impl Strategy<Value = Layout> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
    )
        .prop_map(|(ws, es, seg, n, ii, mr, mc)| Layout {
            write_size: ws % 1024,
            erase_size: es,
            segment_size: seg,
            segment_count: n,
            index_interval: ii % 4096,
            max_record_size: mr,
            max_consumers: mc,
        })
}

fn kv_header() -> impl Strategy<Value = KvHeader> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(g, ws, es, p, mk, mv, ce)| KvHeader {
            version: 1,
            generation: g,
            write_size: ws % 1024,
            erase_size: es,
            partition_size: p,
            max_key_len: mk,
            max_value_len: mv,
            compacted_end: ce,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn layout_arithmetic_never_panics(l in layout(), i in any::<u32>(), n in any::<usize>()) {
        let _ = l.slot_size();
        let _ = l.max_slots();
        let _ = l.index_start();
        let _ = l.segment_addr(i);
        let _ = l.slot_pos(i);
        let _ = l.frame_size(n);
        let _ = l.data_start(n);
        let _ = header::layout_is_sane(&l);
        let h = FixedHeader {
            version: 1,
            header_len: i as u16,
            seq: n as u64,
            base_offset: i as u64,
            prev_seq: 0,
            prev_index: i,
            layout: l,
        };
        let mut b = [0u8; FIXED_HEADER_LEN];
        header::encode_fixed(&h, &mut b);
        // What encode wrote decodes back whenever it is sane.
        if let Ok(d) = header::decode_fixed(&b) {
            prop_assert_eq!(d.layout, l);
            prop_assert!(header::layout_is_sane(&l));
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), m in any::<usize>()) {
        let mut fixed = [0xFFu8; FIXED_HEADER_LEN];
        let k = bytes.len().min(FIXED_HEADER_LEN);
        fixed[..k].copy_from_slice(&bytes[..k]);
        let _ = header::decode_fixed(&fixed);
        let _ = header::checkpoint(&bytes);
        let mut slot = [0xFFu8; SLOT_LEN];
        let k = bytes.len().min(SLOT_LEN);
        slot[..k].copy_from_slice(&bytes[..k]);
        let _ = index::decode(&slot);
        let _ = frame::decode_header(&[fixed[0], fixed[1], fixed[2], fixed[3]]);
        let _ = frame::decode_varint(&bytes);
        let _ = frame::check_frame(&bytes);
        let mut dec = VarintDecoder::default();
        for &b in &bytes {
            if dec.push(b).is_err() {
                break;
            }
        }
        let _ = StateView::parse(&bytes, m).map(|v| v.cursors().count());
        let _ = kvf::decode_header(&bytes);
        let _ = kvf::decode_frame_header(&[fixed[0], fixed[1], fixed[2], fixed[3]]);
        let _ = crc_checked(&bytes);
        let _ = crc32c(&bytes);
        let _ = is_erased(&bytes);
        let _ = FrameKind::from_byte(fixed[0]);
    }

    #[test]
    fn encoders_and_sizes_never_panic(
        name in proptest::collection::vec(any::<u8>(), 0..64),
        out_len in 0usize..80,
        offset in any::<u64>(),
        a in any::<usize>(),
        b in any::<usize>(),
        v in any::<u32>(),
        h in kv_header(),
    ) {
        let mut out = vec![0u8; out_len];
        match state::encode_cursor(&name, offset, &mut out) {
            Some(n) => {
                prop_assert_eq!(n, 1 + name.len() + 8);
                prop_assert!(!name.is_empty() && name.len() <= 32 && out_len >= n);
            }
            None => prop_assert!(name.is_empty() || name.len() > 32 || out_len < 1 + name.len() + 8),
        }
        let mut prefix = [0u8; MIN_STATE_LEN];
        state::encode_prefix(offset, name.len() as u8, &mut prefix);
        let _ = state::encoded_len([a % 64, b % 64]);
        let mut var = [0u8; MAX_VARINT_LEN];
        let n = frame::encode_varint(v, &mut var);
        prop_assert_eq!(frame::decode_varint(&var[..n]), Some((v, n)));
        prop_assert_eq!(n, frame::varint_len(v));
        let _ = frame::encode_header(FrameKind::Batch, a);
        let _ = frame::batch_body_len(a, [b, a]);
        let _ = align_up(a, b);
        let _ = align_up(a, 1 << (b % 16));
        let _ = kvf::entry_len(a, Some(b));
        let _ = kvf::entry_len(a, None);
        let _ = kvf::body_len(a, b);
        let _ = kvf::frame_size(a, b);
        let _ = kvf::max_entry_frame(a, b, v as usize);
        let _ = kvf::data_start(a % 4096);
        let _ = kvf::header_is_sane(&h);
        let _ = h.data_start();
        let _ = kvf::encode_frame_header(a);
        let mut kb = [0u8; kvf::KV_HEADER_LEN];
        kvf::encode_header(&h, &mut kb);
        if let Ok(d) = kvf::decode_header(&kb) {
            prop_assert!(kvf::header_is_sane(&d));
        }
        let s = Slot { pos: v, delta: v.rotate_left(7), state_pos: v ^ 0x55 };
        prop_assert_eq!(index::decode(&index::encode(&s)), index::SlotRead::Valid(s));
    }
}

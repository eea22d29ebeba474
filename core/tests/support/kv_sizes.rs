//! Size bounds of KV images, computed from FORMAT.md's rules (`tidelog::kv::format`): the
//! oracle the KV model test (`tests/kv_model.rs`) and the fuzz harness `kv_ops`
//! (`fuzz/src/kv_ops.rs`) judge `Error::Full` and the compacted size by. Included by path.

use std::collections::BTreeMap;
use tidelog::kv::format::{body_len, data_start, entry_len, frame_size};

/// Upper bound of the bytes a compacted partition holding `model` occupies.
pub fn compacted_bound(ws: usize, model: &BTreeMap<Vec<u8>, Vec<u8>>) -> usize {
    data_start(ws)
        + model
            .iter()
            .map(|(k, v)| frame_size(ws, body_len(1, entry_len(k.len(), Some(v.len())))))
            .sum::<usize>()
}

/// Size of the frame a write of `ops` (key, value or `None` for a delete) appends.
pub fn op_frame(ws: usize, ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> usize {
    let e: usize = ops
        .iter()
        .map(|(k, v)| entry_len(k.len(), v.as_ref().map(Vec::len)))
        .sum();
    frame_size(ws, body_len(ops.len(), e))
}

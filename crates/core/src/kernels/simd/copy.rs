//! Strided copies and sums of short rows as inline vector code.

use core::arch::wasm32::*;

/// Whether there is anything to do, after checking that `rows` rows of `len` floats, `ld`
/// apart, lie inside both slices (a panic, like slice indexing, if not): the bounds every
/// unchecked access below relies on.
#[inline]
fn rows_fit(dst_len: usize, dst_ld: usize, src_len: usize, src_ld: usize, rows: usize, len: usize) -> bool {
    if rows == 0 || len == 0 {
        return false;
    }
    let (last_dst, last_src) = ((rows - 1) * dst_ld + len, (rows - 1) * src_ld + len);
    assert!(last_dst <= dst_len && last_src <= src_len, "row copy: slices too short");
    true
}

/// `rows` rows of `len` floats from `src` (rows `src_ld` apart) to `dst` (rows `dst_ld` apart),
/// for the short rows im2col moves (8 to a few dozen floats), where a `copy_from_slice` per row
/// calls the software `memcpy` and its per-call cost dominates. Panics (like slice indexing) if
/// either slice is too short.
#[inline]
pub fn copy_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    if !rows_fit(dst.len(), dst_ld, src.len(), src_ld, rows, len) {
        return;
    }
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let vec_len = len / 4 * 4;
    // Down the rows for each group of four columns: a row-by-row loop of vector moves is what
    // LLVM's idiom recognition turns back into one `memcpy` call per row.
    let mut i = 0;
    while i < vec_len {
        for r in 0..rows {
            // SAFETY: r·dst_ld + i + 4 ≤ (rows−1)·dst_ld + len ≤ dst.len(), likewise for src
            // (checked by `rows_fit`); `dst` is exclusively borrowed, so it does not overlap `src`.
            // wasm loads and stores have no alignment requirement.
            unsafe {
                let v = v128_load(s.add(r * src_ld + i) as *const v128);
                v128_store(d.add(r * dst_ld + i) as *mut v128, v);
            }
        }
        i += 4;
    }
    if vec_len < len {
        for r in 0..rows {
            for k in vec_len..len {
                dst[r * dst_ld + k] = src[r * src_ld + k];
            }
        }
    }
}

/// `dst += src` over `rows` rows of `len` floats (rows `dst_ld` and `src_ld` apart), the
/// col2im twin of `copy_rows`. Panics (like slice indexing) if either slice is too short.
#[inline]
pub fn add_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    if !rows_fit(dst.len(), dst_ld, src.len(), src_ld, rows, len) {
        return;
    }
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let vec_len = len / 4 * 4;
    for r in 0..rows {
        let (dr, sr) = (r * dst_ld, r * src_ld);
        let mut i = 0;
        while i < vec_len {
            // SAFETY: dr + i + 4 ≤ (rows−1)·dst_ld + len ≤ dst.len(), likewise for src (checked
            // by `rows_fit`); `dst` is exclusively borrowed, so it does not overlap `src`.
            unsafe {
                let q = d.add(dr + i) as *mut v128;
                v128_store(q, f32x4_add(v128_load(q), v128_load(s.add(sr + i) as *const v128)));
            }
            i += 4;
        }
        for k in vec_len..len {
            dst[dr + k] += src[sr + k];
        }
    }
}

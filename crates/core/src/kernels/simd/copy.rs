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
/// is a `memory.copy` call each, whose per-call cost dominates. Panics (like slice indexing) if
/// either slice is too short.
#[inline]
pub fn copy_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    if !rows_fit(dst.len(), dst_ld, src.len(), src_ld, rows, len) {
        return;
    }
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let vec_len = len / 4 * 4;
    // Down the rows for each group of four columns: a row-by-row loop of vector moves is what
    // LLVM's idiom recognition turns back into one `memory.copy` per row.
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

/// `dst[i·ld .. i·ld + len] = src[offs[i] .. offs[i] + len]` for every `i < offs.len()`: one
/// short run of `src` per row of `dst`, for packing a GEMM panel straight from an image (a
/// run is one output row's pixels under one kernel tap). Whole vectors, fully unrolled for the
/// run lengths an output row splits a 16-wide panel into (4, 8, 12, 16). Panics (like slice
/// indexing) if either slice is too short.
#[inline]
pub fn copy_runs(dst: &mut [f32], ld: usize, src: &[f32], offs: &[usize], len: usize) {
    match len {
        4 => runs::<1>(dst, ld, src, offs),
        8 => runs::<2>(dst, ld, src, offs),
        12 => runs::<3>(dst, ld, src, offs),
        16 => runs::<4>(dst, ld, src, offs),
        // Other lengths: one row of vector moves each (`copy_from_slice` would be a
        // `memory.copy` call per run).
        _ => {
            for (i, &o) in offs.iter().enumerate() {
                copy_rows(&mut dst[i * ld..], 0, &src[o..], 0, 1, len);
            }
        }
    }
}

/// `copy_runs` for runs of `4·V` floats.
#[inline(always)]
fn runs<const V: usize>(dst: &mut [f32], ld: usize, src: &[f32], offs: &[usize]) {
    let len = 4 * V;
    if offs.is_empty() {
        return;
    }
    assert!((offs.len() - 1) * ld + len <= dst.len(), "run copy: destination too short");
    let d = dst.as_mut_ptr();
    for (i, &o) in offs.iter().enumerate() {
        let s = &src[o..o + len];
        for v in 0..V {
            // SAFETY: s holds len = 4·V floats (sliced above, which checks the source) and
            // i·ld + 4v + 4 ≤ (offs.len() − 1)·ld + len ≤ dst.len() (asserted above); `dst` is
            // exclusively borrowed. wasm loads and stores have no alignment requirement.
            unsafe {
                let x = v128_load(s.as_ptr().add(4 * v) as *const v128);
                v128_store(d.add(i * ld + 4 * v) as *mut v128, x);
            }
        }
    }
}

/// `dst += src` over `rows` rows of `len` floats (rows `dst_ld` and `src_ld` apart), the
/// col2im twin of `copy_rows`: whole vectors, fully unrolled for rows of 4, 8, 12 or 16 floats
/// (an output row of a small feature map). Panics (like slice indexing) if either slice is too
/// short.
#[inline]
pub fn add_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    if !rows_fit(dst.len(), dst_ld, src.len(), src_ld, rows, len) {
        return;
    }
    match len {
        4 => add_rows_of::<1>(dst, dst_ld, src, src_ld, rows, len),
        8 => add_rows_of::<2>(dst, dst_ld, src, src_ld, rows, len),
        12 => add_rows_of::<3>(dst, dst_ld, src, src_ld, rows, len),
        16 => add_rows_of::<4>(dst, dst_ld, src, src_ld, rows, len),
        _ => add_rows_of::<0>(dst, dst_ld, src, src_ld, rows, len),
    }
}

/// `add_rows` after its bounds check, for rows of `4·V` floats (`V` > 0) or any `len` (`V` = 0).
#[inline(always)]
fn add_rows_of<const V: usize>(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let vec_len = if V > 0 { 4 * V } else { len / 4 * 4 };
    for r in 0..rows {
        let (dr, sr) = (r * dst_ld, r * src_ld);
        let mut i = 0;
        while i < vec_len {
            // SAFETY: dr + i + 4 ≤ (rows−1)·dst_ld + len ≤ dst.len(), likewise for src (checked
            // by `rows_fit` in `add_rows`); `dst` is exclusively borrowed, so it does not
            // overlap `src`.
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

/// `dst[i·ld + q] = src[offs[q] + i]` for `q < 4`, `i < len`: four runs of `src` become the four
/// columns of `len` rows of `dst`, through 4×4 in-register transposes. Packs the panels of an
/// im2col matrix used transposed (each run is one kernel tap along an output row). Panics (like
/// slice indexing) if either slice is too short.
#[inline]
pub fn transpose4_runs(dst: &mut [f32], ld: usize, src: &[f32], offs: [usize; 4], len: usize) {
    if len == 0 {
        return;
    }
    let far = offs.iter().max().map_or(0, |&o| o + len);
    assert!(far <= src.len() && (len - 1) * ld + 4 <= dst.len(), "transposed run copy: slices too short");
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let vec_len = len / 4 * 4;
    let mut i = 0;
    while i < vec_len {
        // SAFETY: offs[q] + i + 4 ≤ offs[q] + len ≤ src.len() and (i + 3)·ld + 4 ≤ (len − 1)·ld
        // + 4 ≤ dst.len() (checked above); `dst` is exclusively borrowed, so it does not overlap
        // `src`. wasm loads and stores have no alignment requirement.
        unsafe {
            let x0 = v128_load(s.add(offs[0] + i) as *const v128);
            let x1 = v128_load(s.add(offs[1] + i) as *const v128);
            let x2 = v128_load(s.add(offs[2] + i) as *const v128);
            let x3 = v128_load(s.add(offs[3] + i) as *const v128);
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(x0, x1);
            let t1 = i32x4_shuffle::<0, 4, 1, 5>(x2, x3);
            let t2 = i32x4_shuffle::<2, 6, 3, 7>(x0, x1);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(x2, x3);
            let o = d.add(i * ld);
            v128_store(o as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t1));
            v128_store(o.add(ld) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t1));
            v128_store(o.add(2 * ld) as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t2, t3));
            v128_store(o.add(3 * ld) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t2, t3));
        }
        i += 4;
    }
    for i in vec_len..len {
        for (q, &o) in offs.iter().enumerate() {
            dst[i * ld + q] = src[o + i];
        }
    }
}

//! Short contiguous copies as inline vector moves.

use core::arch::wasm32::*;

/// `dst.copy_from_slice(src)` for the short rows im2col moves (a few to a few dozen floats):
/// `copy_from_slice` becomes a call to the software `memcpy`, whose per-call cost dominated
/// at those lengths. Panics like `copy_from_slice` when the lengths differ.
#[inline]
pub fn copy_f32(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "copy_f32: lengths differ");
    let n = dst.len();
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 ≤ n = dst.len() = src.len(); `dst` is exclusively borrowed, so it does
        // not overlap `src`. wasm loads and stores have no alignment requirement.
        unsafe { v128_store(d.add(i) as *mut v128, v128_load(s.add(i) as *const v128)) };
        i += 4;
    }
    dst[i..].copy_from_slice(&src[i..]);
}

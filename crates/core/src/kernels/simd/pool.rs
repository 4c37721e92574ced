//! wasm simd128 twin of the max-pool row sweep in `kernels::pool`.

use core::arch::wasm32::*;

/// Four outputs at a time of `kernels::pool::max_tap_row` for strides 1 and 2 (the ones pooling
/// layers use); returns how many leading outputs it handled, the caller finishes the rest.
/// `at` is only read and written when `INDEX`.
#[inline]
pub fn max_tap_row<const INDEX: bool>(src: &[f32], base: usize, sw: usize, best: &mut [f32], at: &mut [i32]) -> usize {
    let n = if INDEX { best.len().min(at.len()) } else { best.len() };
    // Groups of four outputs whose loads (4·sw floats from src[4g·sw]) stay inside `src`.
    let groups = match sw {
        1 | 2 => (n / 4).min(src.len() / (4 * sw)),
        _ => 0,
    };
    let (s, b, a) = (src.as_ptr(), best.as_mut_ptr(), at.as_mut_ptr());
    let lane = i32x4(0, sw as i32, 2 * sw as i32, 3 * sw as i32);
    for g in 0..groups {
        let o = 4 * g;
        // SAFETY: o + 4 ≤ 4·groups ≤ n ≤ best.len() (and at.len() when INDEX), and the source reads end at
        // 4(g+1)·sw ≤ src.len() (both from the `groups` bound). wasm loads and stores have no
        // alignment requirement; `best`/`at` are exclusively borrowed and distinct from `src`.
        unsafe {
            let v = if sw == 1 {
                v128_load(s.add(o) as *const v128)
            } else {
                let lo = v128_load(s.add(2 * o) as *const v128);
                let hi = v128_load(s.add(2 * o + 4) as *const v128);
                i32x4_shuffle::<0, 2, 4, 6>(lo, hi)
            };
            let bv = v128_load(b.add(o) as *const v128);
            let take = v128_or(f32x4_gt(v, bv), f32x4_ne(v, v));
            v128_store(b.add(o) as *mut v128, v128_bitselect(v, bv, take));
            if INDEX {
                let idx = i32x4_add(i32x4_splat((base + o * sw) as i32), lane);
                let av = v128_load(a.add(o) as *const v128);
                v128_store(a.add(o) as *mut v128, v128_bitselect(idx, av, take));
            }
        }
    }
    4 * groups
}

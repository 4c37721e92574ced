//! wasm simd128 twins of the max-pool row sweeps in `kernels::pool`.

use core::arch::wasm32::*;

use super::super::im2col::Window;

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

/// The leading outputs of output row `y0 / 2` of `kernels::pool::max_pool_plane_inside` for 2×2
/// windows at stride 2 (and nothing for any other window), four at a time with their maxima
/// (and argmaxes when `INDEX`) in registers. Returns how many outputs it wrote; the caller
/// finishes the row. `at` is only read and written when `INDEX`.
#[inline]
pub fn max_rows_2x2_stride_2<const INDEX: bool>(x: &[f32], w: usize, y0: usize, win: &Window, best: &mut [f32], at: &mut [i32]) -> usize {
    if (win.kh, win.kw, win.sw) != (2, 2, 2) {
        return 0;
    }
    let n = if INDEX { best.len().min(at.len()) } else { best.len() };
    // Group g reads x[k .. k + 8] and x[k + w .. k + w + 8] for k = y0·w + 8g: the groups whose
    // loads stay inside `x`.
    let groups = (n / 4).min(x.len().saturating_sub((y0 + 1) * w) / 8);
    let (s, b, a) = (x.as_ptr(), best.as_mut_ptr(), at.as_mut_ptr());
    let lane = i32x4(0, 2, 4, 6);
    for g in 0..groups {
        let (o, k) = (4 * g, y0 * w + 8 * g);
        // SAFETY: k + w + 8 = (y0 + 1)·w + 8(g + 1) ≤ x.len() (g < groups), and o + 4 ≤ n ≤
        // best.len() (and at.len() when INDEX), both exclusively borrowed. wasm loads and
        // stores have no alignment requirement.
        unsafe {
            let (t0, t1) = taps_2x2_row(s.add(k));
            let (t2, t3) = taps_2x2_row(s.add(k + w));
            // The taps in window order are t0, t1, t2, t3. Folding pairs and then the pairs
            // gives the sequential fold's result with half its latency: a strict `>` keeps the
            // first of equal maxima either way, and a NaN, once taken, is only replaced by a
            // later NaN.
            let i0 = i32x4_add(i32x4_splat(k as i32), lane);
            let i2 = i32x4_add(i0, i32x4_splat(w as i32));
            let (v01, i01) = take_later::<INDEX>(t0, i0, t1, i32x4_add(i0, i32x4_splat(1)));
            let (v23, i23) = take_later::<INDEX>(t2, i2, t3, i32x4_add(i2, i32x4_splat(1)));
            let (v, i) = take_later::<INDEX>(v01, i01, v23, i23);
            v128_store(b.add(o) as *mut v128, v);
            if INDEX {
                v128_store(a.add(o) as *mut v128, i);
            }
        }
    }
    4 * groups
}

/// Taps (·, 0) and (·, 1) of four stride-2 windows along one input row starting at `p`.
///
/// # Safety
/// `p` must point at 8 readable floats.
#[inline(always)]
unsafe fn taps_2x2_row(p: *const f32) -> (v128, v128) {
    let lo = v128_load(p as *const v128);
    let hi = v128_load(p.add(4) as *const v128);
    (i32x4_shuffle::<0, 2, 4, 6>(lo, hi), i32x4_shuffle::<1, 3, 5, 7>(lo, hi))
}

/// One step of the max fold per lane: `later` replaces `earlier` if larger or NaN, with its
/// index (computed only when `INDEX`).
#[inline(always)]
fn take_later<const INDEX: bool>(earlier: v128, ei: v128, later: v128, li: v128) -> (v128, v128) {
    let take = v128_or(f32x4_gt(later, earlier), f32x4_ne(later, later));
    (v128_bitselect(later, earlier, take), if INDEX { v128_bitselect(li, ei, take) } else { ei })
}

//! 2-D pooling over one `[h, w]` plane: max (with argmax), average and adaptive average,
//! forward and backward. Window bounds follow PyTorch's CPU kernels line for line, so ties,
//! NaNs and the divisor at padded borders come out the same.

use super::im2col::Window;

/// Rows (or columns) `[start, end)` of the input a dilated window starting at padded
/// coordinate `o·s` covers, stepping by `d`: the first in-bounds tap and one past the last.
fn dilated_range(o: usize, s: usize, p: usize, k: usize, d: usize, n: usize) -> (i64, i64, i64) {
    let mut start = (o * s) as i64 - p as i64;
    let end = (start + ((k - 1) * d) as i64 + 1).min(n as i64);
    if start < 0 {
        // Skip taps in the padding, as PyTorch's `while (ih0 < 0) ih0 += dilationH`.
        start += ((-start + d as i64 - 1) / d as i64) * d as i64;
    }
    (start, end, d as i64)
}

/// Max over each window; `idx` gets the flat `y·w + x` of the maximum within the plane
/// (first one on ties; a NaN wins, as in PyTorch). Padding never wins: it is −∞.
pub fn max_pool_plane(x: &[f32], h: usize, w: usize, win: &Window, out: &mut [f32], idx: &mut [i32]) {
    let inside = inside(h, w, win);
    if inside {
        max_pool_plane_inside::<true>(x, w, win, out, idx);
    } else {
        max_pool_plane_general(x, h, w, win, out, idx);
    }
}

/// `max_pool_plane` without the argmax, for a forward pass no backward pass will follow: the
/// same values (the same taps, order and comparison). Only for windows that lie `inside`.
pub fn max_pool_plane_values(x: &[f32], w: usize, win: &Window, out: &mut [f32]) {
    max_pool_plane_inside::<false>(x, w, win, out, &mut []);
}

/// Whether every window lies inside the `h×w` plane: no padding, no dilation, no ceil-mode
/// overhang (the common `MaxPool2d(k, s)`).
pub fn inside(h: usize, w: usize, win: &Window) -> bool {
    win.pt == 0
        && win.pl == 0
        && win.dh == 1
        && win.dw == 1
        && win.oh > 0
        && win.ow > 0
        && (win.oh - 1) * win.sh + win.kh <= h
        && (win.ow - 1) * win.sw + win.kw <= w
}

/// `max_pool_plane` for any window: padding, dilation, ceil-mode overhang.
fn max_pool_plane_general(x: &[f32], h: usize, w: usize, win: &Window, out: &mut [f32], idx: &mut [i32]) {
    for oy in 0..win.oh {
        let (y0, y1, dy) = dilated_range(oy, win.sh, win.pt, win.kh, win.dh, h);
        for ox in 0..win.ow {
            let (x0, x1, dx) = dilated_range(ox, win.sw, win.pl, win.kw, win.dw, w);
            let mut best = f32::NEG_INFINITY;
            let mut at = y0 * w as i64 + x0;
            let mut y = y0;
            while y < y1 {
                let mut xx = x0;
                while xx < x1 {
                    let i = y * w as i64 + xx;
                    let v = x[i as usize];
                    if v > best || v.is_nan() {
                        best = v;
                        at = i;
                    }
                    xx += dx;
                }
                y += dy;
            }
            out[oy * win.ow + ox] = best;
            idx[oy * win.ow + ox] = at as i32;
        }
    }
}

/// `max_pool_plane` when every window lies inside the plane (no padding, no dilation, no
/// ceil-mode overhang: the common `MaxPool2d(k, s)`). On wasm, 2×2 windows at stride 2 (by far
/// the commonest) take a kernel of their own that keeps four outputs' maxima in registers.
/// Otherwise it sweeps a whole output row per tap, in
/// the window's tap order, so each output sees the same taps in the same order with the same
/// comparison as the general path, while the inner loop runs over contiguous outputs (and, on
/// wasm, four at a time).
/// With `INDEX` false, `idx` may be empty and no argmax is kept.
fn max_pool_plane_inside<const INDEX: bool>(x: &[f32], w: usize, win: &Window, out: &mut [f32], idx: &mut [i32]) {
    let ow = win.ow;
    for oy in 0..win.oh {
        let best = &mut out[oy * ow..(oy + 1) * ow];
        let at: &mut [i32] = if INDEX { &mut idx[oy * ow..(oy + 1) * ow] } else { &mut [] };
        let y0 = oy * win.sh;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let done = super::simd::pool::max_rows_2x2_stride_2::<INDEX>(x, w, y0, win, best, at);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let done = 0;
        if done == ow {
            continue;
        }
        let (best, at) = (&mut best[done..], if INDEX { &mut at[done..] } else { at });
        let x0 = y0 * w + done * win.sw;
        best.fill(f32::NEG_INFINITY);
        for (ox, a) in at.iter_mut().enumerate() {
            *a = (x0 + ox * win.sw) as i32;
        }
        for i in 0..win.kh {
            for j in 0..win.kw {
                let base = x0 + i * w + j;
                max_tap_row::<INDEX>(&x[base..], base, win.sw, best, at);
            }
        }
    }
}

/// One tap of a row of windows: output `ox` looks at `src[ox·sw]` (flat index `base + ox·sw`)
/// and takes it if it is larger or NaN, recording where in `at` when `INDEX`. `src` holds at
/// least `(best.len() − 1)·sw + 1` values.
#[inline]
fn max_tap_row<const INDEX: bool>(src: &[f32], base: usize, sw: usize, best: &mut [f32], at: &mut [i32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = super::simd::pool::max_tap_row::<INDEX>(src, base, sw, best, at);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for ox in done..best.len() {
        let v = src[ox * sw];
        // Branch-free: on real activations the comparison is a coin flip, and a mispredicted
        // branch per tap cost ~4×.
        let take = (v > best[ox]) | v.is_nan();
        best[ox] = if take { v } else { best[ox] };
        if INDEX {
            at[ox] = if take { (base + ox * sw) as i32 } else { at[ox] };
        }
    }
}

/// Scatters `g` onto the saved argmax positions; indices outside the plane (a window that
/// lay entirely in padding) are skipped.
pub fn max_pool_plane_backward(g: &[f32], idx: &[i32], dx: &mut [f32]) {
    for (&gv, &i) in g.iter().zip(idx) {
        if i >= 0 && (i as usize) < dx.len() {
            dx[i as usize] += gv;
        }
    }
}

/// PyTorch's average-pool window: the clipped bounds and the divisor (the window size within
/// the padded input when `count_include_pad`, else the number of real pixels).
fn avg_window(oy: usize, ox: usize, h: usize, w: usize, win: &Window, count_include_pad: bool) -> (usize, usize, usize, usize, f32) {
    let (h, w) = (h as i64, w as i64);
    let mut y0 = (oy * win.sh) as i64 - win.pt as i64;
    let mut x0 = (ox * win.sw) as i64 - win.pl as i64;
    let mut y1 = (y0 + win.kh as i64).min(h + win.pt as i64);
    let mut x1 = (x0 + win.kw as i64).min(w + win.pl as i64);
    let pool_size = (y1 - y0) * (x1 - x0);
    y0 = y0.max(0);
    x0 = x0.max(0);
    y1 = y1.min(h);
    x1 = x1.min(w);
    if y0 >= y1 || x0 >= x1 {
        return (0, 0, 0, 0, 1.0);
    }
    let div = if count_include_pad { pool_size } else { (y1 - y0) * (x1 - x0) };
    (y0 as usize, y1 as usize, x0 as usize, x1 as usize, div as f32)
}

pub fn avg_pool_plane(x: &[f32], h: usize, w: usize, win: &Window, count_include_pad: bool, out: &mut [f32]) {
    for oy in 0..win.oh {
        for ox in 0..win.ow {
            let (y0, y1, x0, x1, div) = avg_window(oy, ox, h, w, win, count_include_pad);
            let mut s = 0.0f32;
            for y in y0..y1 {
                for v in &x[y * w + x0..y * w + x1] {
                    s += v;
                }
            }
            out[oy * win.ow + ox] = s / div;
        }
    }
}

// out = Σ_window x / div  ⇒  dx[window] += g / div
pub fn avg_pool_plane_backward(g: &[f32], h: usize, w: usize, win: &Window, count_include_pad: bool, dx: &mut [f32]) {
    for oy in 0..win.oh {
        for ox in 0..win.ow {
            let (y0, y1, x0, x1, div) = avg_window(oy, ox, h, w, win, count_include_pad);
            let gv = g[oy * win.ow + ox] / div;
            for y in y0..y1 {
                for d in &mut dx[y * w + x0..y * w + x1] {
                    *d += gv;
                }
            }
        }
    }
}

/// PyTorch's adaptive window for output index `i` of `out` over `n` inputs:
/// `[floor(i·n/out), ceil((i+1)·n/out))`.
pub fn adaptive_range(i: usize, out: usize, n: usize) -> (usize, usize) {
    let (i, out, n) = (i as u64, out as u64, n as u64);
    let start = i * n / out;
    let end = ((i + 1) * n + out - 1) / out;
    (start as usize, end as usize)
}

pub fn adaptive_avg_plane(x: &[f32], h: usize, w: usize, oh: usize, ow: usize, out: &mut [f32]) {
    for oy in 0..oh {
        let (y0, y1) = adaptive_range(oy, oh, h);
        for ox in 0..ow {
            let (x0, x1) = adaptive_range(ox, ow, w);
            let mut s = 0.0f32;
            for y in y0..y1 {
                for v in &x[y * w + x0..y * w + x1] {
                    s += v;
                }
            }
            out[oy * ow + ox] = s / ((y1 - y0) * (x1 - x0)) as f32;
        }
    }
}

// out = mean over the window  ⇒  dx[window] += g / window size
pub fn adaptive_avg_plane_backward(g: &[f32], h: usize, w: usize, oh: usize, ow: usize, dx: &mut [f32]) {
    for oy in 0..oh {
        let (y0, y1) = adaptive_range(oy, oh, h);
        for ox in 0..ow {
            let (x0, x1) = adaptive_range(ox, ow, w);
            let gv = g[oy * ow + ox] / ((y1 - y0) * (x1 - x0)) as f32;
            for y in y0..y1 {
                for d in &mut dx[y * w + x0..y * w + x1] {
                    *d += gv;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_fast_path_matches_the_general_loop() {
        // Ties, NaNs and ±∞ included; windows 2×2/2, 3×3/1, 3×2/(2,1).
        let (h, w) = (9, 8);
        let x: Vec<f32> = (0..h * w)
            .map(|i| match i % 17 {
                3 => f32::NAN,
                5 => f32::NEG_INFINITY,
                7 | 8 => 1.5,
                _ => ((i * 37 % 23) as f32 - 11.0) * 0.25,
            })
            .collect();
        for &(kh, kw, sh, sw) in &[(2usize, 2usize, 2usize, 2usize), (3, 3, 1, 1), (3, 2, 2, 1)] {
            let win = Window { kh, kw, sh, sw, pt: 0, pl: 0, dh: 1, dw: 1, oh: (h - kh) / sh + 1, ow: (w - kw) / sw + 1 };
            let n = win.oh * win.ow;
            let (mut o1, mut i1, mut o2, mut i2) = (vec![0.0; n], vec![0; n], vec![0.0; n], vec![0; n]);
            max_pool_plane(&x, h, w, &win, &mut o1, &mut i1);
            max_pool_plane_general(&x, h, w, &win, &mut o2, &mut i2);
            assert_eq!(i1, i2, "{:?}", win);
            assert_eq!(o1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), o2.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }
}

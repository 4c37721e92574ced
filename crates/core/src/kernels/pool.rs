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

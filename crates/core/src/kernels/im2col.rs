//! im2col / col2im for one image plane stack: they turn a 2-D convolution into one GEMM
//! (`weight [O, C·kh·kw] · col [C·kh·kw, oh·ow]`) and its input gradient back into an image.
//! Plain slice loops, no allocation; the caller owns `col` and reuses it across samples. The
//! `_ld` variants place several samples' columns side by side for one batched GEMM, and
//! `Im2colPanels` hands the GEMM that matrix without writing it.

use super::gemm::{PackB, KC, NR};

/// The sweep of a kh×kw window (with stride, dilation and top/left padding) that produces an
/// oh×ow output. Bottom/right padding only shows up in `oh`/`ow`: positions past the input
/// read zeros either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pl: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

fn ceil_div(a: usize, b: usize) -> usize {
    (a + b - 1) / b
}

/// Output columns `[lo, hi)` whose input column `ox·sw + off − pl` lies inside `0..w`; the
/// columns outside read padding. Computed once per kernel column instead of tested per pixel.
fn valid_cols(w: usize, win: &Window, off: usize) -> (usize, usize) {
    // Every column inside (no padding reached): the common case, without the divisions.
    if win.ow == 0 || (off >= win.pl && (win.ow - 1) * win.sw + off - win.pl < w) {
        return (0, win.ow);
    }
    let lo = if off >= win.pl { 0 } else { ceil_div(win.pl - off, win.sw) }.min(win.ow);
    let hi = if w + win.pl > off { ceil_div(w + win.pl - off, win.sw) } else { 0 }.min(win.ow).max(lo);
    (lo, hi)
}

/// `col[(ci·kh + i)·kw + j][oy·ow + ox] = x[ci][oy·sh + i·dh − pt][ox·sw + j·dw − pl]`, zero where
/// that falls in the padding. `x` is `[c, h, w]`, `col` is `[c·kh·kw, oh·ow]`.
pub fn im2col(x: &[f32], c: usize, h: usize, w: usize, win: &Window, col: &mut [f32]) {
    im2col_ld(x, c, h, w, win, col, win.oh * win.ow)
}

/// `im2col` into a wider matrix whose rows are `ld ≥ oh·ow` apart, so that the columns of several
/// samples can sit side by side (`col` starts at this sample's first column) and one GEMM
/// serves the whole batch.
pub fn im2col_ld(x: &[f32], c: usize, h: usize, w: usize, win: &Window, col: &mut [f32], ld: usize) {
    let (p, ow) = (win.oh * win.ow, win.ow);
    let mut row = 0;
    for ci in 0..c {
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        for i in 0..win.kh {
            let (ylo, yhi) = valid_rows(h, win, i);
            for j in 0..win.kw {
                let off = j * win.dw;
                let (lo, hi) = valid_cols(w, win, off);
                let dst_row = &mut col[row * ld..row * ld + p];
                row += 1;
                // Output rows whose input row lies in the padding, and the padded ends of the rest.
                // (Tested first: `fill` of an empty range still costs a `memory.fill`.)
                if ylo > 0 {
                    dst_row[..ylo * ow].fill(0.0);
                }
                if yhi < win.oh {
                    dst_row[yhi * ow..].fill(0.0);
                }
                if lo > 0 || hi < ow {
                    for r in dst_row[ylo * ow..yhi * ow].chunks_exact_mut(ow) {
                        r[..lo].fill(0.0);
                        r[hi..].fill(0.0);
                    }
                }
                if ylo == yhi || lo == hi {
                    continue;
                }
                let y0 = ylo * win.sh + i * win.dh - win.pt;
                let s0 = y0 * w + lo * win.sw + off - win.pl;
                let dst = &mut dst_row[ylo * ow + lo..];
                let src = &plane[s0..];
                if win.sw == 1 {
                    copy_rows(dst, ow, src, win.sh * w, yhi - ylo, hi - lo);
                } else {
                    for (r, d) in dst.chunks_mut(ow).take(yhi - ylo).enumerate() {
                        let s = &src[r * win.sh * w..];
                        for (ox, v) in d[..hi - lo].iter_mut().enumerate() {
                            *v = s[ox * win.sw];
                        }
                    }
                }
            }
        }
    }
}

/// Output rows `[lo, hi)` whose input row `oy·sh + i·dh − pt` lies inside `0..h`.
fn valid_rows(h: usize, win: &Window, i: usize) -> (usize, usize) {
    let fake = Window { sw: win.sh, pl: win.pt, ow: win.oh, ..*win };
    valid_cols(h, &fake, i * win.dh)
}

/// `rows` rows of `len` floats from `src` (rows `src_ld` apart) to `dst` (rows `dst_ld` apart):
/// vector moves on wasm, where `copy_from_slice` per row is a `memory.copy` each, a call out
/// of the wasm code that costs more than the few floats it moves.
#[inline]
pub fn copy_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::simd::copy::copy_rows(dst, dst_ld, src, src_ld, rows, len);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for r in 0..rows {
        dst[r * dst_ld..r * dst_ld + len].copy_from_slice(&src[r * src_ld..r * src_ld + len]);
    }
}

/// `dst[i·ld .. i·ld + len] = src[offs[i] .. offs[i] + len]` for every `i < offs.len()`: one
/// short run of `src` per row of `dst` (see `simd::copy::copy_runs`).
#[inline]
pub fn copy_runs(dst: &mut [f32], ld: usize, src: &[f32], offs: &[usize], len: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::simd::copy::copy_runs(dst, ld, src, offs, len);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (i, &o) in offs.iter().enumerate() {
        dst[i * ld..i * ld + len].copy_from_slice(&src[o..o + len]);
    }
}

/// `dst[i·ld + q] = src[offs[q] + i]` for `q < 4`, `i < len` (see `simd::copy::transpose4_runs`).
#[inline]
pub fn transpose4_runs(dst: &mut [f32], ld: usize, src: &[f32], offs: [usize; 4], len: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::simd::copy::transpose4_runs(dst, ld, src, offs, len);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for i in 0..len {
        for (q, &o) in offs.iter().enumerate() {
            dst[i * ld + q] = src[o + i];
        }
    }
}

/// The adjoint of `im2col`: adds every column entry back onto the input pixel it was read
/// from (padding entries are dropped). `dx` is `[c, h, w]` and is accumulated into.
pub fn col2im(col: &[f32], c: usize, h: usize, w: usize, win: &Window, dx: &mut [f32]) {
    col2im_ld(col, c, h, w, win, dx, win.oh * win.ow, 1, 0)
}

/// `col2im` for `samples` images at once (`sample_stride` apart in `dx`) from a wider matrix
/// whose rows are `ld` apart and hold the samples' columns side by side (see `im2col_ld`). The
/// window arithmetic is done once per matrix row for all samples.
#[allow(clippy::too_many_arguments)]
pub fn col2im_ld(col: &[f32], c: usize, h: usize, w: usize, win: &Window, dx: &mut [f32], ld: usize, samples: usize, sample_stride: usize) {
    let (p, ow) = (win.oh * win.ow, win.ow);
    if samples == 0 {
        return;
    }
    let mut row = 0;
    for ci in 0..c {
        for i in 0..win.kh {
            let (ylo, yhi) = valid_rows(h, win, i);
            for j in 0..win.kw {
                let off = j * win.dw;
                let (lo, hi) = valid_cols(w, win, off);
                let src_row = &col[row * ld..row * ld + samples * p];
                row += 1;
                if ylo == yhi || lo == hi {
                    continue;
                }
                let y0 = ylo * win.sh + i * win.dh - win.pt;
                let d0 = ci * h * w + y0 * w + lo * win.sw + off - win.pl;
                for s in 0..samples {
                    let src = &src_row[s * p + ylo * ow + lo..];
                    let dst = &mut dx[s * sample_stride + d0..];
                    if win.sw == 1 {
                        add_rows(dst, win.sh * w, src, ow, yhi - ylo, hi - lo);
                    } else {
                        for (r, sr) in src.chunks(ow).take(yhi - ylo).enumerate() {
                            let d = &mut dst[r * win.sh * w..];
                            for (ox, v) in sr[..hi - lo].iter().enumerate() {
                                d[ox * win.sw] += v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `dst += src` over `rows` rows of `len` floats (rows `dst_ld` and `src_ld` apart).
#[inline]
fn add_rows(dst: &mut [f32], dst_ld: usize, src: &[f32], src_ld: usize, rows: usize, len: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::simd::copy::add_rows(dst, dst_ld, src, src_ld, rows, len);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for r in 0..rows {
        for (d, s) in dst[r * dst_ld..r * dst_ld + len].iter_mut().zip(&src[r * src_ld..r * src_ld + len]) {
            *d += s;
        }
    }
}

/// The im2col matrix of several samples side by side (`[c·kh·kw, samples·oh·ow]`, as
/// `im2col_ld` lays it out), never written: the GEMM packs its B panels straight from the
/// images. That saves writing the matrix and reading it back once per convolution, and the
/// packing reads the same short contiguous runs that im2col would copy. Only for
/// convolutions without padding, whose windows stay inside the image.
pub struct Im2colPanels<'a> {
    /// The input, `[samples, c, h, w]` with samples `sample_stride` apart (a group's channels
    /// when the convolution is grouped).
    pub x: &'a [f32],
    pub sample_stride: usize,
    pub h: usize,
    pub w: usize,
    pub win: Window,
}

/// The `NR`-wide panels of a packed slab of columns `jc..jc+nc`: (first column, valid columns,
/// panel), a ragged last panel zeroed first so that its missing columns read as zeros.
fn panels(dst: &mut [f32], jc: usize, nc: usize, kc: usize) -> impl Iterator<Item = (usize, usize, &mut [f32])> {
    dst.chunks_exact_mut(kc * NR).enumerate().map(move |(r, panel)| {
        let cols = (nc - r * NR).min(NR);
        if cols < NR {
            panel.fill(0.0);
        }
        (jc + r * NR, cols, panel)
    })
}

impl<'a> Im2colPanels<'a> {
    /// Offset in `x` of column `j`'s window origin (its sample, output row and column).
    fn origin(&self, j: usize) -> usize {
        let pp = self.win.oh * self.win.ow;
        let (s, q) = (j / pp, j % pp);
        s * self.sample_stride + (q / self.win.ow) * self.win.sh * self.w + (q % self.win.ow) * self.win.sw
    }

    /// `out[i]` = offset from a window's origin of depth row `p0 + i` (channel, kernel row,
    /// kernel column), the three counted up rather than divided out per row.
    fn taps(&self, p0: usize, out: &mut [usize]) {
        let win = &self.win;
        let (mut ci, mut ki, mut kj) = (p0 / (win.kh * win.kw), p0 / win.kw % win.kh, p0 % win.kw);
        for t in out {
            *t = ci * self.h * self.w + ki * win.dh * self.w + kj * win.dw;
            kj += 1;
            if kj == win.kw {
                kj = 0;
                ki += 1;
                if ki == win.kh {
                    ki = 0;
                    ci += 1;
                }
            }
        }
    }

    /// The transpose of the matrix, `[samples·oh·ow, c·kh·kw]`: the B of a weight gradient
    /// `dY · colᵀ`.
    pub fn transposed(&self) -> Transposed<'_, 'a> {
        Transposed(self)
    }
}

/// `Im2colPanels` read as its transpose (see `Im2colPanels::transposed`).
pub struct Transposed<'p, 'a>(&'p Im2colPanels<'a>);

impl PackB for Transposed<'_, '_> {
    /// Columns of op(B) are depth rows of the im2col matrix, its depth the output pixels: panel
    /// `r` holds `dst[i·NR + t] = x[origin(pc + i) + tap(jc + r·NR + t)]`. Along an output row
    /// at stride 1 the pixels of one tap are consecutive floats, so four taps at a time go
    /// through a 4×4 transpose.
    fn pack_slab(&self, jc: usize, nc: usize, pc: usize, kc: usize, dst: &mut [f32]) {
        let src = self.0;
        let win = &src.win;
        // The slab's depth (output pixels pc..pc+kc) as runs along output rows, listed once for
        // every panel: (first depth row, window origin, length).
        assert!(kc <= KC, "im2col panels: a slab deeper than KC = {KC}");
        let mut runs = [(0usize, 0usize, 0usize); KC];
        let (mut count, mut i) = (0, 0);
        while i < kc {
            let len = (win.ow - (pc + i) % win.ow).min(kc - i);
            runs[count] = (i, src.origin(pc + i), len);
            count += 1;
            i += len;
        }
        let runs = &runs[..count];
        for (j0, cols, panel) in panels(dst, jc, nc, kc) {
            let mut taps = [0usize; NR];
            src.taps(j0, &mut taps[..cols]);
            // Four taps at a time through 4×4 transposes (at stride 1 a run's pixels of one tap
            // are consecutive floats), the rest one float at a time.
            let whole = if win.sw == 1 { cols / 4 * 4 } else { 0 };
            for t in (0..whole).step_by(4) {
                for &(i, at, len) in runs {
                    let offs = [at + taps[t], at + taps[t + 1], at + taps[t + 2], at + taps[t + 3]];
                    transpose4_runs(&mut panel[i * NR + t..], NR, src.x, offs, len);
                }
            }
            for (t, &tap) in taps[..cols].iter().enumerate().skip(whole) {
                for &(i, at, len) in runs {
                    for q in 0..len {
                        panel[(i + q) * NR + t] = src.x[at + tap + q * win.sw];
                    }
                }
            }
        }
    }
}

impl PackB for Im2colPanels<'_> {
    fn pack_slab(&self, jc: usize, nc: usize, pc: usize, kc: usize, dst: &mut [f32]) {
        // Depth row p of column j reads x[origin(j) + tap(p)]. The taps are listed once per
        // slab (on the stack: the GEMM's slabs are at most KC deep); each panel then copies,
        // per run of columns whose windows start at consecutive floats (the rest of an output
        // row, at stride 1), one short row per depth row.
        assert!(kc <= KC, "im2col panels: a slab deeper than KC = {KC}");
        let mut taps = [0usize; KC];
        self.taps(pc, &mut taps[..kc]);
        let win = &self.win;
        let ow = win.ow;
        for (j0, cols, panel) in panels(dst, jc, nc, kc) {
            let mut t = 0;
            while t < cols {
                let j = j0 + t;
                let len = if win.sw == 1 { (ow - j % ow).min(cols - t) } else { 1 };
                copy_runs(&mut panel[t..], NR, &self.x[self.origin(j)..], &taps[..kc], len);
                t += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_im2col(x: &[f32], c: usize, h: usize, w: usize, win: &Window) -> Vec<f32> {
        let p = win.oh * win.ow;
        let mut col = vec![0.0; c * win.kh * win.kw * p];
        for ci in 0..c {
            for i in 0..win.kh {
                for j in 0..win.kw {
                    let row = (ci * win.kh + i) * win.kw + j;
                    for oy in 0..win.oh {
                        for ox in 0..win.ow {
                            let y = (oy * win.sh + i * win.dh) as isize - win.pt as isize;
                            let xx = (ox * win.sw + j * win.dw) as isize - win.pl as isize;
                            if y >= 0 && (y as usize) < h && xx >= 0 && (xx as usize) < w {
                                col[row * p + oy * win.ow + ox] = x[(ci * h + y as usize) * w + xx as usize];
                            }
                        }
                    }
                }
            }
        }
        col
    }

    #[test]
    fn panels_packed_from_the_images_give_the_gemms_of_the_written_matrix() {
        use crate::kernels::gemm::{gemm, gemm_source};
        // (samples, c, h, w, kh, kw, sh, sw, dh, dw): odd widths, strides, dilation, and depths
        // beyond one packed slab (c·kh·kw = 275 > 256) that cut a kernel row in two.
        for &(n, c, h, w, kh, kw, sh, sw, dh, dw) in &[
            (3usize, 2usize, 7usize, 9usize, 3usize, 2usize, 1usize, 1usize, 1usize, 1usize),
            (2, 11, 9, 9, 5, 5, 1, 1, 1, 1),
            (2, 3, 11, 10, 3, 3, 2, 3, 2, 1),
            (5, 1, 6, 20, 2, 4, 1, 1, 1, 3),
        ] {
            let (oh, ow) = ((h - dh * (kh - 1) - 1) / sh + 1, (w - dw * (kw - 1) - 1) / sw + 1);
            let win = Window { kh, kw, sh, sw, pt: 0, pl: 0, dh, dw, oh, ow };
            let (k, ld, chw) = (c * kh * kw, n * oh * ow, c * h * w);
            let x: Vec<f32> = (0..n * chw).map(|i| (i as f32 * 0.37).sin()).collect();
            let a: Vec<f32> = (0..3 * k).map(|i| (i as f32 * 0.13).cos()).collect();
            let mut col = vec![0.0; k * ld];
            for s in 0..n {
                im2col_ld(&x[s * chw..(s + 1) * chw], c, h, w, &win, &mut col[s * oh * ow..], ld);
            }
            let mut want = vec![0.0; 3 * ld];
            gemm(3, ld, k, &a, false, &col, false, &mut want, false);
            let mut got = vec![f32::NAN; 3 * ld];
            let panels = Im2colPanels { x: &x, sample_stride: chw, h, w, win };
            gemm_source(3, ld, k, &a, false, &panels, &mut got, false);
            // The same panels go through the same kernel: the same bits.
            assert_eq!(got, want, "{:?}", win);

            // And as the B of a weight gradient, dY · colᵀ.
            let dy: Vec<f32> = (0..3 * ld).map(|i| (i as f32 * 0.29).sin()).collect();
            let mut want = vec![0.0; 3 * k];
            gemm(3, k, ld, &dy, false, &col, true, &mut want, false);
            let mut got = vec![f32::NAN; 3 * k];
            gemm_source(3, k, ld, &dy, false, &panels.transposed(), &mut got, false);
            assert_eq!(got, want, "transposed {:?}", win);
        }
    }

    #[test]
    fn im2col_matches_naive_and_col2im_is_its_adjoint() {
        for &(c, h, w, kh, kw, sh, sw, pt, pl, dh, dw) in &[
            (2usize, 5usize, 6usize, 3usize, 2usize, 1usize, 1usize, 0usize, 0usize, 1usize, 1usize),
            (1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1),
            (3, 6, 5, 2, 3, 1, 2, 2, 1, 2, 2),
            (1, 4, 4, 5, 5, 1, 1, 2, 2, 1, 1),
            (2, 3, 8, 1, 4, 3, 1, 0, 3, 1, 2),
        ] {
            // Symmetric padding for the output size, as conv2d does.
            let oh = (h + 2 * pt - dh * (kh - 1) - 1) / sh + 1;
            let ow = (w + 2 * pl - dw * (kw - 1) - 1) / sw + 1;
            let win = Window { kh, kw, sh, sw, pt, pl, dh, dw, oh, ow };
            let x: Vec<f32> = (0..c * h * w).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut col = vec![f32::NAN; c * kh * kw * oh * ow];
            im2col(&x, c, h, w, &win, &mut col);
            assert_eq!(col, naive_im2col(&x, c, h, w, &win), "{:?}", win);
            // <im2col(x), y> == <x, col2im(y)> for any y.
            let y: Vec<f32> = (0..col.len()).map(|i| (i as f32 * 0.11).cos()).collect();
            let mut dx = vec![0.0; x.len()];
            col2im(&y, c, h, w, &win, &mut dx);
            let lhs: f64 = col.iter().zip(&y).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            assert!((lhs - rhs).abs() < 1e-3, "{} vs {} for {:?}", lhs, rhs, win);
        }
    }
}

//! 2-D convolution in PyTorch's layout: input `[N, C, H, W]`, weight `[O, C/groups, kh, kw]`,
//! bias `[O]`. Per group, a chunk of samples (the whole batch when it fits `COL_BUDGET`) is one
//! im2col matrix and one packed GEMM; the backward pass reuses the same GEMM through its
//! transpose flags, and col2im folds the input gradient back.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::buffer::{recycle_f32, scratch_f32};
use crate::error::{fmt_shape, Error, Result};
use crate::kernels::conv_direct;
use crate::kernels::gemm::{gemm, gemm_source};
use crate::kernels::reduce;
use crate::kernels::im2col::{col2im_ld, copy_rows, im2col_ld, Im2colPanels, Window};
use crate::shape::{numel, MAX_NUMEL};
use crate::tensor::{new_f32, new_f32_overwritten, Tensor};

/// Stride, padding (top, bottom, left, right: 'same' with an even kernel pads one more on the
/// bottom/right, as PyTorch does), dilation and groups of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: [usize; 2],
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub groups: usize,
}

/// A non-negative integer parameter small enough that size arithmetic cannot overflow
/// (every size is ≤ `MAX_NUMEL` = 2^29, so sums of three fit a 32-bit usize).
pub(crate) fn param(op: &'static str, what: &str, v: i64, min: i64) -> Result<usize> {
    if v < min || v > MAX_NUMEL as i64 {
        return Err(Error::value(op, format!("{} must be in [{}, {}], got {}", what, min, MAX_NUMEL, v)));
    }
    Ok(v as usize)
}

impl Conv2dParams {
    /// From `[stride h, stride w, pad top, pad bottom, pad left, pad right, dilation h,
    /// dilation w, groups]` as the FFI passes them.
    pub fn from_ints(op: &'static str, v: &[i64]) -> Result<Conv2dParams> {
        if v.len() != 9 {
            return Err(Error::value(op, format!("expected 9 parameters (stride 2, padding 4, dilation 2, groups), got {}", v.len())));
        }
        Ok(Conv2dParams {
            stride: [param(op, "stride", v[0], 1)?, param(op, "stride", v[1], 1)?],
            padding: [
                param(op, "padding", v[2], 0)?,
                param(op, "padding", v[3], 0)?,
                param(op, "padding", v[4], 0)?,
                param(op, "padding", v[5], 0)?,
            ],
            dilation: [param(op, "dilation", v[6], 1)?, param(op, "dilation", v[7], 1)?],
            groups: param(op, "groups", v[8], 1)?,
        })
    }
}

/// Everything the loops need, validated.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    cg: usize,
    og: usize,
    groups: usize,
    win: Window,
}

impl Geometry {
    /// The im2col matrix of group `g` of the samples from `s0` on, for the GEMM to pack from
    /// `xs` directly (convolutions without padding).
    fn panels<'a>(&self, xs: &'a [f32], s0: usize, g: usize) -> Im2colPanels<'a> {
        let chw = self.c * self.h * self.w;
        Im2colPanels { x: &xs[s0 * chw + g * self.cg * self.h * self.w..], sample_stride: chw, h: self.h, w: self.w, win: self.win }
    }

    /// Rows of the im2col matrix (the GEMM depth).
    fn k(&self) -> usize {
        self.cg * self.win.kh * self.win.kw
    }
    /// Output pixels per plane.
    fn p(&self) -> usize {
        self.win.oh * self.win.ow
    }
    fn out_shape(&self) -> Vec<usize> {
        vec![self.n, self.o, self.win.oh, self.win.ow]
    }

    /// Whether the direct kernel computes this convolution (and its weight gradient): one
    /// group, stride 1, no padding or dilation, and a shallow enough depth (`conv_direct::applies`).
    fn direct(&self, p: &Conv2dParams) -> bool {
        let win = &self.win;
        self.groups == 1 && (win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1) && p.padding == [0; 4] && conv_direct::applies(self.c, win.kh, win.kw, win.ow)
    }
}

/// Output length of one axis, or None when the dilated kernel exceeds the padded input.
fn out_len(n: usize, pad_a: usize, pad_b: usize, k: usize, s: usize, d: usize) -> Option<usize> {
    let padded = n as u64 + pad_a as u64 + pad_b as u64;
    let eff = d as u64 * (k as u64 - 1) + 1;
    if eff > padded {
        return None;
    }
    Some(((padded - eff) / s as u64 + 1) as usize)
}

fn geometry(op: &'static str, x: &[usize], w: &[usize], bias: Option<&[usize]>, p: &Conv2dParams) -> Result<Geometry> {
    if x.len() != 4 {
        return Err(Error::shape(op, format!("expected input with 4 dims [N, C, H, W], got {}", fmt_shape(x))));
    }
    if w.len() != 4 {
        return Err(Error::shape(op, format!("expected weight with 4 dims [out_channels, in_channels/groups, kH, kW], got {}", fmt_shape(w))));
    }
    let (n, c, h, wd) = (x[0], x[1], x[2], x[3]);
    let (o, wc, kh, kw) = (w[0], w[1], w[2], w[3]);
    let g = p.groups;
    if kh == 0 || kw == 0 {
        return Err(Error::shape(op, format!("weight {} has an empty kernel; kH and kW must be at least 1", fmt_shape(w))));
    }
    if o % g != 0 {
        return Err(Error::shape(op, format!("out_channels {} of weight {} must be divisible by groups {}", o, fmt_shape(w), g)));
    }
    if wc.checked_mul(g) != Some(c) {
        return Err(Error::shape(
            op,
            format!(
                "input {} has {} channels but weight expects {} (weight {}, groups {}); the weight's dim 1 times groups must equal the input's channels",
                fmt_shape(x),
                c,
                wc.saturating_mul(g),
                fmt_shape(w),
                g
            ),
        ));
    }
    if let Some(b) = bias {
        if b != [o] {
            return Err(Error::shape(op, format!("bias must have shape [{}] (one per output channel of weight {}), got {}", o, fmt_shape(w), fmt_shape(b))));
        }
    }
    let [pt, pb, pl, pr] = p.padding;
    let [sh, sw] = p.stride;
    let [dh, dw] = p.dilation;
    let (oh, ow) = match (out_len(h, pt, pb, kh, sh, dh), out_len(wd, pl, pr, kw, sw, dw)) {
        (Some(oh), Some(ow)) => (oh, ow),
        _ => {
            return Err(Error::shape(
                op,
                format!(
                    "kernel size ({} x {}) (dilated: {} x {}) is larger than the padded input ({} x {}) of input {}; use a smaller kernel or dilation, more padding, or a larger input",
                    kh,
                    kw,
                    dh as u64 * (kh as u64 - 1) + 1,
                    dw as u64 * (kw as u64 - 1) + 1,
                    h as u64 + pt as u64 + pb as u64,
                    wd as u64 + pl as u64 + pr as u64,
                    fmt_shape(x)
                ),
            ))
        }
    };
    let geo = Geometry { n, c, h, w: wd, o, cg: wc, og: o / g, groups: g, win: Window { kh, kw, sh, sw, pt, pl, dh, dw, oh, ow } };
    numel(op, &geo.out_shape())?;
    // The im2col scratch holds at least one (sample, group) at a time.
    numel(op, &[geo.k(), geo.p()])?;
    Ok(geo)
}

/// Upper bound on the im2col scratch, in floats (512 KiB, the L2 cache of the machines we
/// measure on). Samples are processed in chunks of `chunk(geo)` so that one GEMM covers as many
/// samples as fit: for the lecture CNN that is 8 samples (conv1: 25 × 8·576, conv2: 250 × 8·64
/// floats), wide enough to amortise packing and tile edges, while the matrix im2col writes is
/// still in cache when the GEMM packs it. Whole-batch chunks (16 MiB) measured ~15 % slower
/// on the lecture CNN's train step, per-sample GEMMs slower still.
const COL_BUDGET: usize = 1 << 17;

/// Samples per batched GEMM.
fn chunk(geo: &Geometry) -> usize {
    (COL_BUDGET / (geo.k() * geo.p()).max(1)).clamp(1, geo.n.max(1))
}

/// conv2d forward on values. Per group and chunk of `ns` samples: the samples' im2col matrices
/// side by side (`[k, ns·pp]`), one GEMM `W_g · col` into `[og, ns·pp]`, then each sample's
/// `[og, pp]` block is copied to its place in NCHW with the bias added on the way.
pub fn conv2d_values(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: &Conv2dParams) -> Result<Tensor> {
    let op = "conv2d";
    let geo = geometry(op, &x.shape, &w.shape, b.map(|t| &t.shape[..]), p)?;
    let (xs, ws) = (x.f32s(op)?, w.f32s(op)?);
    let bs = match b {
        Some(t) => Some(t.f32s(op)?),
        None => None,
    };
    let (k, pp, og) = (geo.k(), geo.p(), geo.og);
    let win = &geo.win;
    if geo.direct(p) {
        let (chw, opp) = (geo.c * geo.h * geo.w, geo.o * pp);
        return new_f32_overwritten(op, &geo.out_shape(), |out| {
            for s in 0..geo.n {
                conv_direct::conv_direct(&xs[s * chw..(s + 1) * chw], geo.c, geo.h, geo.w, ws, bs, geo.o, win.kh, win.kw, &mut out[s * opp..(s + 1) * opp]);
            }
        });
    }
    let ns = chunk(&geo);
    // Without padding the GEMM packs its B panels straight from the images (Im2colPanels);
    // with it, the im2col matrix is written first.
    let implicit = p.padding == [0; 4];
    let mut col = scratch_f32(op, if implicit { 0 } else { k * ns * pp })?;
    // With one sample per chunk the GEMM can write straight into the output.
    let mut tmp = scratch_f32(op, if ns > 1 { og * ns * pp } else { 0 })?;
    let (chw, cghw) = (geo.c * geo.h * geo.w, geo.cg * geo.h * geo.w);
    let conv_gemm = |s0: usize, cnt: usize, g: usize, col: &mut [f32], dst: &mut [f32]| {
        let ld = cnt * pp;
        let wg = &ws[g * og * k..(g + 1) * og * k];
        if implicit {
            gemm_source(og, ld, k, wg, false, &geo.panels(xs, s0, g), dst, false);
            return;
        }
        for j in 0..cnt {
            let xg = &xs[(s0 + j) * chw + g * cghw..][..cghw];
            im2col_ld(xg, geo.cg, geo.h, geo.w, &geo.win, &mut col[j * pp..], ld);
        }
        gemm(og, ld, k, wg, false, col, false, dst, false);
    };
    new_f32_overwritten(op, &geo.out_shape(), |out| {
        for s0 in (0..geo.n).step_by(ns) {
            let cnt = ns.min(geo.n - s0);
            let ld = cnt * pp;
            for g in 0..geo.groups {
                let bias = |oc: usize| bs.map_or(0.0, |b| b[g * og + oc]);
                if ns == 1 {
                    let o0 = (s0 * geo.o + g * og) * pp;
                    let dst = &mut out[o0..o0 + og * pp];
                    conv_gemm(s0, cnt, g, &mut col, dst);
                    if bs.is_some() {
                        for (oc, row) in dst.chunks_exact_mut(pp).enumerate() {
                            let bv = bias(oc);
                            row.iter_mut().for_each(|v| *v += bv);
                        }
                    }
                    continue;
                }
                let t = &mut tmp[..og * ld];
                conv_gemm(s0, cnt, g, &mut col, t);
                for (oc, trow) in t.chunks_exact(ld).enumerate() {
                    let bv = bias(oc);
                    for (j, src) in trow.chunks_exact(pp).enumerate() {
                        let o0 = ((s0 + j) * geo.o + g * og + oc) * pp;
                        for (d, &v) in out[o0..o0 + pp].iter_mut().zip(src) {
                            *d = v + bv;
                        }
                    }
                }
            }
        }
    })
    .map(|t| {
        recycle_f32(col);
        recycle_f32(tmp);
        t
    })
}

// Y_sg = W_g · col(X_sg) + b  ⇒
//   dW_g = Σ_s dY_sg · col(X_sg)ᵀ,  db = Σ_{s,pixels} dY,  dX_sg = col2im(W_gᵀ · dY_sg)
// Batched like the forward pass: per chunk of samples, dY_g is gathered into `[og, ns·pp]` and
// col(X) laid out `[k, ns·pp]`, so each of dW and dX is one GEMM with a deep (ns·pp) or wide
// (ns·pp) dimension instead of ns thin ones.
/// Gradients of (input, weight[, bias]); `need` says which of input and weight the graph
/// wants, so the first layer skips the col2im of an input that needs no gradient.
pub fn conv2d_backward(g: &Tensor, x: &Tensor, w: &Tensor, has_bias: bool, p: &Conv2dParams, need: [bool; 2]) -> Result<Vec<Option<Tensor>>> {
    let op = "conv2d_backward";
    let geo = geometry(op, &x.shape, &w.shape, None, p)?;
    let (gs, xs, ws) = (g.f32s(op)?, x.f32s(op)?, w.f32s(op)?);
    let (k, pp, og) = (geo.k(), geo.p(), geo.og);
    let ns = chunk(&geo);
    // Where the forward pass ran the direct kernel, so does the weight gradient; the GEMMs
    // below are then only for dX.
    let direct = geo.direct(p);
    let gemms = need[0] || (need[1] && !direct);
    // As in the forward pass, the weight gradient reads col(X) straight from the images when
    // there is no padding; col2im still needs the matrix for dX.
    let implicit = p.padding == [0; 4];
    let mut col = scratch_f32(op, if implicit && !need[0] { 0 } else { k * ns * pp })?;
    let mut gy = scratch_f32(op, if gemms { og * ns * pp } else { 0 })?;
    let (chw, cghw) = (geo.c * geo.h * geo.w, geo.cg * geo.h * geo.w);

    // dY of group `gi` for samples s0..s0+cnt as `[og, cnt·pp]`: per output channel, the
    // samples' planes (`o·pp` apart) side by side, as vector moves (`copy_from_slice` per plane
    // would be a `memory.copy` call each).
    let gather = |gy: &mut [f32], s0: usize, cnt: usize, gi: usize| {
        let ld = cnt * pp;
        for (oc, row) in gy[..og * ld].chunks_exact_mut(ld).enumerate() {
            copy_rows(row, pp, &gs[(s0 * geo.o + gi * og + oc) * pp..], geo.o * pp, cnt, pp);
        }
    };

    let mut dw = if need[1] { Some(crate::buffer::alloc_f32(op, w.numel())?) } else { None };
    let mut dx = if need[0] { Some(crate::buffer::alloc_f32(op, x.numel())?) } else { None };
    if let (true, Some(dwt)) = (direct, dw.as_mut()) {
        let (win, opp) = (&geo.win, geo.o * pp);
        for s in 0..geo.n {
            conv_direct::conv_direct_weight_grad(&xs[s * chw..(s + 1) * chw], geo.c, geo.h, geo.w, &gs[s * opp..(s + 1) * opp], geo.o, win.kh, win.kw, dwt);
        }
    }
    let mut gemm_dw = if direct { None } else { dw.as_deref_mut() };
    for s0 in (0..geo.n).step_by(ns).filter(|_| gemms) {
        let cnt = ns.min(geo.n - s0);
        let ld = cnt * pp;
        for gi in 0..geo.groups {
            gather(&mut gy, s0, cnt, gi);
            let gyc = &gy[..og * ld];
            if let Some(dw) = gemm_dw.as_deref_mut() {
                let dwg = &mut dw[gi * og * k..(gi + 1) * og * k];
                if implicit {
                    gemm_source(og, k, ld, gyc, false, &geo.panels(xs, s0, gi).transposed(), dwg, true);
                } else {
                    for j in 0..cnt {
                        let xg = &xs[(s0 + j) * chw + gi * cghw..][..cghw];
                        im2col_ld(xg, geo.cg, geo.h, geo.w, &geo.win, &mut col[j * pp..], ld);
                    }
                    gemm(og, k, ld, gyc, false, &col, true, dwg, true);
                }
            }
            if let Some(dx) = dx.as_mut() {
                let wg = &ws[gi * og * k..(gi + 1) * og * k];
                gemm(k, ld, og, wg, true, gyc, false, &mut col[..k * ld], false);
                col2im_ld(&col, geo.cg, geo.h, geo.w, &geo.win, &mut dx[s0 * chw + gi * cghw..], ld, cnt, chw);
            }
        }
    }
    recycle_f32(col);
    recycle_f32(gy);
    let gx = match dx {
        Some(v) => Some(Tensor::from_f32(x.shape.clone(), v)),
        None => None,
    };
    let gw = match dw {
        Some(v) => Some(Tensor::from_f32(w.shape.clone(), v)),
        None => None,
    };

    let mut grads = vec![gx, gw];
    if has_bias {
        grads.push(Some(new_f32(op, &[geo.o], |db| {
            for s in 0..geo.n {
                for (oc, d) in db.iter_mut().enumerate() {
                    let o0 = (s * geo.o + oc) * pp;
                    *d += reduce::sum(&gs[o0..o0 + pp]);
                }
            }
        })?));
    }
    Ok(grads)
}

impl Context {
    pub fn conv2d(&mut self, input: Id, weight: Id, bias: Option<Id>, p: Conv2dParams) -> Result<Id> {
        let op = "conv2d";
        let x = self.get(op, input)?;
        let w = self.get(op, weight)?;
        let b = match bias {
            Some(b) => Some(self.get(op, b)?),
            None => None,
        };
        let out = conv2d_values(&x, &w, b.as_ref(), &p)?;
        let need = [self.entry(op, input)?.requires_grad, self.entry(op, weight)?.requires_grad];
        let mut inputs = vec![input, weight];
        inputs.extend(bias);
        self.record("ConvolutionBackward", &inputs, out, move || Op::Conv2d { x, w, has_bias: b.is_some(), p, need })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 7-deep loop, the definition of cross-correlation with groups.
    fn naive(x: &[f32], xs: [usize; 4], w: &[f32], ws: [usize; 4], b: Option<&[f32]>, p: &Conv2dParams) -> (Vec<f32>, [usize; 4]) {
        let [n, c, h, wd] = xs;
        let [o, cg, kh, kw] = ws;
        let g = p.groups;
        let og = o / g;
        let [pt, pb, pl, pr] = p.padding;
        let oh = (h + pt + pb - p.dilation[0] * (kh - 1) - 1) / p.stride[0] + 1;
        let ow = (wd + pl + pr - p.dilation[1] * (kw - 1) - 1) / p.stride[1] + 1;
        let mut out = vec![0.0f32; n * o * oh * ow];
        for s in 0..n {
            for oc in 0..o {
                let gi = oc / og;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b.map_or(0.0, |b| b[oc]) as f64;
                        for ci in 0..cg {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let y = (oy * p.stride[0] + i * p.dilation[0]) as isize - pt as isize;
                                    let xx = (ox * p.stride[1] + j * p.dilation[1]) as isize - pl as isize;
                                    if y < 0 || y >= h as isize || xx < 0 || xx >= wd as isize {
                                        continue;
                                    }
                                    let xv = x[((s * c + gi * cg + ci) * h + y as usize) * wd + xx as usize];
                                    acc += (xv * w[((oc * cg + ci) * kh + i) * kw + j]) as f64;
                                }
                            }
                        }
                        out[((s * o + oc) * oh + oy) * ow + ox] = acc as f32;
                    }
                }
            }
        }
        (out, [n, o, oh, ow])
    }

    fn data(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.731).sin()).collect()
    }

    fn params(s: [usize; 2], pad: [usize; 4], d: [usize; 2], g: usize) -> Conv2dParams {
        Conv2dParams { stride: s, padding: pad, dilation: d, groups: g }
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "[{}] {} vs {}", i, x, y);
        }
    }

    const CASES: &[([usize; 4], [usize; 4], [usize; 2], [usize; 4], [usize; 2], usize)] = &[
        ([2, 3, 7, 6], [4, 3, 3, 3], [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ([1, 2, 8, 8], [3, 2, 3, 2], [2, 2], [1, 1, 1, 1], [1, 1], 1),
        ([2, 4, 6, 7], [6, 2, 3, 3], [1, 2], [2, 2, 1, 1], [2, 1], 2),
        ([1, 1, 5, 5], [2, 1, 4, 4], [1, 1], [1, 2, 1, 2], [1, 1], 1),
        ([3, 1, 28, 28], [10, 1, 5, 5], [1, 1], [0, 0, 0, 0], [1, 1], 1),
        // Batches that span several GEMM chunks (`chunk` gives 9 and 3), the last one ragged.
        ([19, 1, 28, 28], [10, 1, 5, 5], [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ([5, 4, 30, 30], [6, 2, 5, 5], [1, 1], [1, 1, 0, 0], [1, 1], 2),
        // Without padding and too deep for the direct kernel: B packed from the images
        // (Im2colPanels), over several chunks (8 samples each, the last one ragged), with
        // strides and dilation, and per group.
        ([19, 10, 12, 12], [20, 10, 5, 5], [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ([2, 9, 11, 10], [4, 9, 3, 3], [2, 1], [0, 0, 0, 0], [1, 2], 1),
        ([3, 8, 9, 9], [6, 4, 3, 3], [1, 1], [0, 0, 0, 0], [1, 1], 2),
    ];

    #[test]
    fn forward_matches_direct_loops() {
        let mut chunked = 0;
        for &(xs, ws, s, pad, d, g) in CASES {
            let p = params(s, pad, d, g);
            let geo = geometry("t", &xs, &ws, None, &p).unwrap();
            chunked += (xs[0] > chunk(&geo)) as usize;
            let x = Tensor::from_f32(xs.to_vec(), data(xs.iter().product(), 0.0));
            let w = Tensor::from_f32(ws.to_vec(), data(ws.iter().product(), 3.0));
            let b = Tensor::from_f32(vec![ws[0]], data(ws[0], 7.0));
            let got = conv2d_values(&x, &w, Some(&b), &p).unwrap();
            let (want, shape) = naive(x.f32s("t").unwrap(), xs, w.f32s("t").unwrap(), ws, Some(b.f32s("t").unwrap()), &p);
            assert_eq!(got.shape, shape.to_vec());
            close(got.f32s("t").unwrap(), &want);
        }
        assert!(chunked >= 2, "the cases must cover batches split into several chunks");
    }

    #[test]
    fn backward_matches_directional_derivatives() {
        // The forward is linear in x and in w, so <dL/dx, v> must equal <g, conv(v, w)> exactly,
        // and likewise for w; this checks the adjoint without finite-difference noise.
        for &(xs, ws, s, pad, d, g) in CASES {
            let p = params(s, pad, d, g);
            let x = Tensor::from_f32(xs.to_vec(), data(xs.iter().product(), 1.0));
            let w = Tensor::from_f32(ws.to_vec(), data(ws.iter().product(), 5.0));
            let y = conv2d_values(&x, &w, None, &p).unwrap();
            let gy = Tensor::from_f32(y.shape.clone(), data(y.numel(), 9.0));
            let grads = conv2d_backward(&gy, &x, &w, true, &p, [true, true]).unwrap();
            let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(u, v)| *u as f64 * *v as f64).sum::<f64>();
            let vx = Tensor::from_f32(xs.to_vec(), data(xs.iter().product(), 11.0));
            let vw = Tensor::from_f32(ws.to_vec(), data(ws.iter().product(), 13.0));
            let gx = grads[0].as_ref().unwrap().f32s("t").unwrap();
            let gw = grads[1].as_ref().unwrap().f32s("t").unwrap();
            let gys = gy.f32s("t").unwrap();
            let lhs = dot(gx, vx.f32s("t").unwrap());
            let rhs = dot(gys, conv2d_values(&vx, &w, None, &p).unwrap().f32s("t").unwrap());
            assert!((lhs - rhs).abs() < 1e-3 * (1.0 + rhs.abs()), "dx: {} vs {}", lhs, rhs);
            let lhs = dot(gw, vw.f32s("t").unwrap());
            let rhs = dot(gys, conv2d_values(&x, &vw, None, &p).unwrap().f32s("t").unwrap());
            assert!((lhs - rhs).abs() < 1e-3 * (1.0 + rhs.abs()), "dw: {} vs {}", lhs, rhs);
            let gb = grads[2].as_ref().unwrap().f32s("t").unwrap();
            let (n, o, pp) = (y.shape[0], y.shape[1], y.shape[2] * y.shape[3]);
            for oc in 0..o {
                let want: f32 = (0..n).map(|s| gys[(s * o + oc) * pp..(s * o + oc + 1) * pp].iter().sum::<f32>()).sum();
                assert!((gb[oc] - want).abs() < 1e-4 * (1.0 + want.abs()));
            }
        }
    }

    #[test]
    fn bad_shapes_name_the_op_and_shapes() {
        let p = params([1, 1], [0; 4], [1, 1], 1);
        let x3 = Tensor::from_f32(vec![3, 28, 28], vec![0.0; 3 * 28 * 28]);
        let w = Tensor::from_f32(vec![10, 1, 5, 5], vec![0.0; 250]);
        assert_eq!(
            conv2d_values(&x3, &w, None, &p).unwrap_err().to_string(),
            "conv2d: expected input with 4 dims [N, C, H, W], got [3, 28, 28]"
        );
        let x = Tensor::from_f32(vec![1, 3, 28, 28], vec![0.0; 3 * 28 * 28]);
        let e = conv2d_values(&x, &w, None, &p).unwrap_err().to_string();
        assert!(e.contains("has 3 channels but weight expects 1 (weight [10, 1, 5, 5], groups 1)"), "{}", e);
        let small = Tensor::from_f32(vec![1, 1, 2, 2], vec![0.0; 4]);
        let e = conv2d_values(&small, &w, None, &p).unwrap_err().to_string();
        assert!(e.starts_with("conv2d: kernel size (5 x 5)") && e.contains("padded input (2 x 2)"), "{}", e);
        let x1 = Tensor::from_f32(vec![1, 1, 8, 8], vec![0.0; 64]);
        let b = Tensor::from_f32(vec![3], vec![0.0; 3]);
        assert!(conv2d_values(&x1, &w, Some(&b), &p).unwrap_err().to_string().contains("bias must have shape [10]"));
        assert!(Conv2dParams::from_ints("conv2d", &[0, 1, 0, 0, 0, 0, 1, 1, 1]).is_err());
        assert!(Conv2dParams::from_ints("conv2d", &[1, 1, 0, 0, 0, 0, 1, 1, 0]).is_err());
        // Huge dilation must be an error, not an overflow.
        let p = params([1, 1], [0; 4], [MAX_NUMEL, MAX_NUMEL], 1);
        assert!(conv2d_values(&x1, &Tensor::from_f32(vec![1, 1, 5, 5], vec![0.0; 25]), None, &p).is_err());
    }
}

//! 2-D pooling in PyTorch's layout (`[N, C, H, W]` or unbatched `[C, H, W]`): max pooling
//! with saved argmax indices, average pooling and adaptive average pooling. Output sizes,
//! ceil mode and the checks follow PyTorch's `pooling_output_shape` and `pool2d_shape_check`.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::kernels::im2col::Window;
use crate::kernels::pool;
use crate::ops::conv::param;
use crate::shape::numel;
use crate::tensor::{new_f32, new_f32_overwritten, new_i32, Tensor};

/// Kernel, stride, padding (symmetric, as in PyTorch's pools), dilation, ceil mode and, for
/// average pooling, whether padding counts in the divisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dParams {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

impl Pool2dParams {
    /// From `[kH, kW, sH, sW, padH, padW, dilationH, dilationW, ceil_mode, count_include_pad]`.
    pub fn from_ints(op: &'static str, v: &[i64]) -> Result<Pool2dParams> {
        if v.len() != 10 {
            return Err(Error::value(op, format!("expected 10 parameters, got {}", v.len())));
        }
        Ok(Pool2dParams {
            kernel: [param(op, "kernel size", v[0], 1)?, param(op, "kernel size", v[1], 1)?],
            stride: [param(op, "stride", v[2], 1)?, param(op, "stride", v[3], 1)?],
            padding: [param(op, "padding", v[4], 0)?, param(op, "padding", v[5], 0)?],
            dilation: [param(op, "dilation", v[6], 1)?, param(op, "dilation", v[7], 1)?],
            ceil_mode: v[8] != 0,
            count_include_pad: v[9] != 0,
        })
    }
}

/// PyTorch's `pooling_output_shape`, in i64 so that a too-small input gives ≤ 0, not a wrap.
fn pool_out_len(n: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> i64 {
    let (n, k, s, p, d) = (n as i64, k as i64, s as i64, p as i64, d as i64);
    let num = n + 2 * p - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
    // Floor division (div_rtn), also for negative numerators.
    let mut out = num.div_euclid(s) + 1;
    if ceil && (out - 1) * s >= n + p {
        out -= 1;
    }
    out
}

/// (planes, h, w) of a `[C, H, W]` or `[N, C, H, W]` input whose non-batch dims are non-empty.
fn planes(op: &'static str, shape: &[usize]) -> Result<(usize, usize, usize)> {
    let ok = match shape.len() {
        3 => shape.iter().all(|&d| d > 0),
        4 => shape[1..].iter().all(|&d| d > 0),
        _ => false,
    };
    if !ok {
        return Err(Error::shape(
            op,
            format!("expected a 3-D [C, H, W] or 4-D [N, C, H, W] input with non-zero C, H and W, got {}", fmt_shape(shape)),
        ));
    }
    let n = shape.len();
    Ok((shape[..n - 2].iter().product(), shape[n - 2], shape[n - 1]))
}

fn with_hw(shape: &[usize], oh: usize, ow: usize) -> Vec<usize> {
    let mut s = shape[..shape.len() - 2].to_vec();
    s.extend_from_slice(&[oh, ow]);
    s
}

/// The validated window sweep of a max or average pool over `shape`.
fn pool_window(op: &'static str, shape: &[usize], p: &Pool2dParams) -> Result<(usize, usize, usize, Window)> {
    let (np, h, w) = planes(op, shape)?;
    let [kh, kw] = p.kernel;
    let [ph, pw] = p.padding;
    if ph > kh / 2 || pw > kw / 2 {
        return Err(Error::value(
            op,
            format!(
                "pad should be smaller than or equal to half of kernel size, but got padding ({}, {}) for kernel ({}, {}); use padding ≤ kernel/2",
                ph, pw, kh, kw
            ),
        ));
    }
    let oh = pool_out_len(h, kh, p.stride[0], ph, p.dilation[0], p.ceil_mode);
    let ow = pool_out_len(w, kw, p.stride[1], pw, p.dilation[1], p.ceil_mode);
    if oh < 1 || ow < 1 {
        return Err(Error::shape(
            op,
            format!(
                "input {} with kernel ({}, {}), stride ({}, {}), padding ({}, {}) and dilation ({}, {}) gives output size ({} x {}), which is too small; use a smaller kernel or more padding",
                fmt_shape(shape),
                kh,
                kw,
                p.stride[0],
                p.stride[1],
                ph,
                pw,
                p.dilation[0],
                p.dilation[1],
                oh,
                ow
            ),
        ));
    }
    let (oh, ow) = (oh as usize, ow as usize);
    numel(op, &with_hw(shape, oh, ow))?;
    let win = Window { kh, kw, sh: p.stride[0], sw: p.stride[1], pt: ph, pl: pw, dh: p.dilation[0], dw: p.dilation[1], oh, ow };
    Ok((np, h, w, win))
}

/// max_pool2d forward: (values, int32 flat indices into each H·W plane, as PyTorch returns).
pub fn max_pool2d_values(x: &Tensor, p: &Pool2dParams) -> Result<(Tensor, Tensor)> {
    let op = "max_pool2d";
    let (np, h, w, win) = pool_window(op, &x.shape, p)?;
    let xs = x.f32s(op)?;
    let out_shape = with_hw(&x.shape, win.oh, win.ow);
    let po = win.oh * win.ow;
    let mut index = new_i32(op, &out_shape, |_| {})?;
    let idx = index.i32s_mut(op)?;
    let values = new_f32_overwritten(op, &out_shape, |o| {
        for i in 0..np {
            pool::max_pool_plane(&xs[i * h * w..(i + 1) * h * w], h, w, &win, &mut o[i * po..(i + 1) * po], &mut idx[i * po..(i + 1) * po]);
        }
    })?;
    Ok((values, index))
}

/// max_pool2d forward without the indices, for a pass no backward will follow; None when the
/// windows reach past the plane (then `max_pool2d_values` serves).
fn max_pool2d_only_values(x: &Tensor, p: &Pool2dParams) -> Result<Option<Tensor>> {
    let op = "max_pool2d";
    let (np, h, w, win) = pool_window(op, &x.shape, p)?;
    let xs = x.f32s(op)?;
    if !pool::inside(h, w, &win) {
        return Ok(None);
    }
    let po = win.oh * win.ow;
    new_f32_overwritten(op, &with_hw(&x.shape, win.oh, win.ow), |o| {
        for i in 0..np {
            pool::max_pool_plane_values(&xs[i * h * w..(i + 1) * h * w], w, &win, &mut o[i * po..(i + 1) * po]);
        }
    })
    .map(Some)
}

// y = x[argmax]  ⇒  dx[argmax] += dy
pub fn max_pool2d_backward(g: &Tensor, shape: &[usize], index: &Tensor) -> Result<Tensor> {
    let op = "max_pool2d_backward";
    let (np, h, w) = planes(op, shape)?;
    let (gs, idx) = (g.f32s(op)?, index.i32s(op)?);
    let po = if np == 0 { 0 } else { gs.len() / np };
    new_f32(op, shape, |dx| {
        for i in 0..np {
            pool::max_pool_plane_backward(&gs[i * po..(i + 1) * po], &idx[i * po..(i + 1) * po], &mut dx[i * h * w..(i + 1) * h * w]);
        }
    })
}

pub fn avg_pool2d_values(x: &Tensor, p: &Pool2dParams) -> Result<Tensor> {
    let op = "avg_pool2d";
    let (np, h, w, win) = pool_window(op, &x.shape, p)?;
    let xs = x.f32s(op)?;
    let po = win.oh * win.ow;
    new_f32(op, &with_hw(&x.shape, win.oh, win.ow), |o| {
        for i in 0..np {
            pool::avg_pool_plane(&xs[i * h * w..(i + 1) * h * w], h, w, &win, p.count_include_pad, &mut o[i * po..(i + 1) * po]);
        }
    })
}

// y = Σ_window x / divisor  ⇒  dx[window] += dy / divisor
pub fn avg_pool2d_backward(g: &Tensor, shape: &[usize], p: &Pool2dParams) -> Result<Tensor> {
    let op = "avg_pool2d_backward";
    let (np, h, w, win) = pool_window(op, shape, p)?;
    let gs = g.f32s(op)?;
    let po = win.oh * win.ow;
    new_f32(op, shape, |dx| {
        for i in 0..np {
            pool::avg_pool_plane_backward(&gs[i * po..(i + 1) * po], h, w, &win, p.count_include_pad, &mut dx[i * h * w..(i + 1) * h * w]);
        }
    })
}

pub fn adaptive_avg_pool2d_values(x: &Tensor, oh: usize, ow: usize) -> Result<Tensor> {
    let op = "adaptive_avg_pool2d";
    let (np, h, w) = planes(op, &x.shape)?;
    let xs = x.f32s(op)?;
    let out_shape = with_hw(&x.shape, oh, ow);
    numel(op, &out_shape)?;
    let po = oh * ow;
    new_f32(op, &out_shape, |o| {
        for i in 0..np {
            pool::adaptive_avg_plane(&xs[i * h * w..(i + 1) * h * w], h, w, oh, ow, &mut o[i * po..(i + 1) * po]);
        }
    })
}

// y = mean over the adaptive window  ⇒  dx[window] += dy / window size
pub fn adaptive_avg_pool2d_backward(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let op = "adaptive_avg_pool2d_backward";
    let (np, h, w) = planes(op, shape)?;
    let (oh, ow) = (g.shape[g.ndim() - 2], g.shape[g.ndim() - 1]);
    let gs = g.f32s(op)?;
    let po = oh * ow;
    new_f32(op, shape, |dx| {
        for i in 0..np {
            pool::adaptive_avg_plane_backward(&gs[i * po..(i + 1) * po], h, w, oh, ow, &mut dx[i * h * w..(i + 1) * h * w]);
        }
    })
}

impl Context {
    /// Returns (values, indices); the indices are int32 and carry no gradient.
    /// max_pool2d's values alone (what `F.maxPool2d` returns): without the indices when no
    /// graph is recorded (inference), else through `max_pool2d`, whose indices the graph keeps.
    pub fn max_pool2d_no_indices(&mut self, input: Id, p: Pool2dParams) -> Result<Id> {
        if !self.needs_grad(&[input]) {
            let x = self.get("max_pool2d", input)?;
            if let Some(values) = max_pool2d_only_values(&x, &p)? {
                return Ok(self.insert(values));
            }
        }
        let (values, index) = self.max_pool2d(input, p)?;
        self.free(index);
        Ok(values)
    }

    pub fn max_pool2d(&mut self, input: Id, p: Pool2dParams) -> Result<(Id, Id)> {
        let x = self.get("max_pool2d", input)?;
        let (values, index) = max_pool2d_values(&x, &p)?;
        let shape = x.shape.clone();
        let saved = index.clone();
        let v = self.record("MaxPool2DWithIndicesBackward", &[input], values, move || Op::MaxPool2d { shape, index: saved })?;
        Ok((v, self.insert(index)))
    }

    pub fn avg_pool2d(&mut self, input: Id, p: Pool2dParams) -> Result<Id> {
        let x = self.get("avg_pool2d", input)?;
        let out = avg_pool2d_values(&x, &p)?;
        let shape = x.shape.clone();
        self.record("AvgPool2DBackward", &[input], out, move || Op::AvgPool2d { shape, p })
    }

    pub fn adaptive_avg_pool2d(&mut self, input: Id, output_size: &[i64]) -> Result<Id> {
        let op = "adaptive_avg_pool2d";
        if output_size.len() != 2 {
            return Err(Error::value(op, format!("output size must have 2 elements (H, W), got {}", output_size.len())));
        }
        let (oh, ow) = (param(op, "output size", output_size[0], 0)?, param(op, "output size", output_size[1], 0)?);
        let x = self.get(op, input)?;
        let out = adaptive_avg_pool2d_values(&x, oh, ow)?;
        let shape = x.shape.clone();
        self.record("AdaptiveAvgPool2DBackward", &[input], out, move || Op::AdaptiveAvgPool2d { shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(k: usize, s: usize, p: usize, d: usize, ceil: bool, cip: bool) -> Pool2dParams {
        Pool2dParams { kernel: [k, k], stride: [s, s], padding: [p, p], dilation: [d, d], ceil_mode: ceil, count_include_pad: cip }
    }

    /// Direct loops over every window position, written from the definitions.
    fn naive(x: &[f32], h: usize, w: usize, p: &Pool2dParams, oh: usize, ow: usize, max: bool) -> Vec<f32> {
        let mut out = vec![];
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut best, mut sum, mut real, mut padded) = (f32::NEG_INFINITY, 0.0f32, 0usize, 0usize);
                for i in 0..p.kernel[0] {
                    for j in 0..p.kernel[1] {
                        let y = (oy * p.stride[0] + i * p.dilation[0]) as isize - p.padding[0] as isize;
                        let xx = (ox * p.stride[1] + j * p.dilation[1]) as isize - p.padding[1] as isize;
                        // Average pooling counts window cells inside the input plus its padding.
                        if y < h as isize + p.padding[0] as isize && xx < w as isize + p.padding[1] as isize {
                            padded += 1;
                        }
                        if y >= 0 && (y as usize) < h && xx >= 0 && (xx as usize) < w {
                            let v = x[y as usize * w + xx as usize];
                            best = best.max(v);
                            sum += v;
                            real += 1;
                        }
                    }
                }
                out.push(if max { best } else { sum / (if p.count_include_pad { padded } else { real }) as f32 });
            }
        }
        out
    }

    #[test]
    fn pools_match_direct_loops() {
        let (h, w) = (7, 6);
        let x: Vec<f32> = (0..2 * h * w).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.1).collect();
        let t = Tensor::from_f32(vec![1, 2, h, w], x.clone());
        for &(k, s, p, d, ceil, cip) in &[
            (2, 2, 0, 1, false, true),
            (3, 2, 1, 1, true, true),
            (3, 2, 1, 1, true, false),
            (3, 1, 1, 2, false, true),
            (2, 3, 1, 1, true, false),
            (4, 2, 2, 1, true, true),
        ] {
            let pp = params(k, s, p, d, ceil, cip);
            let (mv, mi) = max_pool2d_values(&t, &pp).unwrap();
            let (oh, ow) = (mv.shape[2], mv.shape[3]);
            for c in 0..2 {
                let plane = &x[c * h * w..(c + 1) * h * w];
                let got = &mv.f32s("t").unwrap()[c * oh * ow..(c + 1) * oh * ow];
                assert_eq!(got, &naive(plane, h, w, &pp, oh, ow, true)[..], "max {:?}", pp);
                for (v, &i) in got.iter().zip(&mi.i32s("t").unwrap()[c * oh * ow..]) {
                    assert_eq!(*v, plane[i as usize]);
                }
            }
            if d == 1 {
                let av = avg_pool2d_values(&t, &pp).unwrap();
                let want: Vec<f32> = (0..2).flat_map(|c| naive(&x[c * h * w..(c + 1) * h * w], h, w, &pp, oh, ow, false)).collect();
                for (a, b) in av.f32s("t").unwrap().iter().zip(&want) {
                    assert!((a - b).abs() < 1e-5, "avg {:?}: {} vs {}", pp, a, b);
                }
                // Average pooling is linear: check the adjoint <dx, v> = <g, pool(v)>.
                let g = Tensor::from_f32(av.shape.clone(), (0..av.numel()).map(|i| (i as f32 * 0.3).cos()).collect());
                let dx = avg_pool2d_backward(&g, &t.shape, &pp).unwrap();
                let v = Tensor::from_f32(t.shape.clone(), (0..t.numel()).map(|i| (i as f32 * 0.7).sin()).collect());
                let pv = avg_pool2d_values(&v, &pp).unwrap();
                let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(u, w)| *u as f64 * *w as f64).sum::<f64>();
                let (l, r) = (dot(dx.f32s("t").unwrap(), v.f32s("t").unwrap()), dot(g.f32s("t").unwrap(), pv.f32s("t").unwrap()));
                assert!((l - r).abs() < 1e-4, "avg backward {:?}: {} vs {}", pp, l, r);
            }
        }
    }

    #[test]
    fn output_sizes_follow_pytorch() {
        // torch.nn.functional.max_pool2d(torch.zeros(1, 1, 5, 5), 2, 2, ceil_mode=True).shape == [1, 1, 3, 3]
        assert_eq!(pool_out_len(5, 2, 2, 0, 1, true), 3);
        assert_eq!(pool_out_len(5, 2, 2, 0, 1, false), 2);
        // The last window must start inside the input (plus left padding).
        assert_eq!(pool_out_len(4, 2, 2, 1, 1, true), 3);
        assert_eq!(pool_out_len(1, 3, 1, 0, 1, false), -1);
    }

    #[test]
    fn adaptive_windows_overlap_like_pytorch() {
        assert_eq!(pool::adaptive_range(0, 3, 5), (0, 2));
        assert_eq!(pool::adaptive_range(1, 3, 5), (1, 4));
        assert_eq!(pool::adaptive_range(2, 3, 5), (3, 5));
        let t = Tensor::from_f32(vec![1, 5, 5], (0..25).map(|i| i as f32).collect());
        let o = adaptive_avg_pool2d_values(&t, 1, 1).unwrap();
        assert_eq!(o.shape, vec![1, 1, 1]);
        assert_eq!(o.f32s("t").unwrap(), &[12.0]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let t = Tensor::from_f32(vec![1, 1, 4, 4], vec![0.0; 16]);
        let e = max_pool2d_values(&t, &params(2, 2, 2, 1, false, true)).unwrap_err().to_string();
        assert!(e.starts_with("max_pool2d: pad should be smaller than or equal to half of kernel size"), "{}", e);
        let e = max_pool2d_values(&t, &params(5, 1, 0, 1, false, true)).unwrap_err().to_string();
        assert!(e.contains("too small"), "{}", e);
        let e = avg_pool2d_values(&Tensor::from_f32(vec![4, 4], vec![0.0; 16]), &params(2, 2, 0, 1, false, true)).unwrap_err().to_string();
        assert!(e.contains("got [4, 4]"), "{}", e);
        assert!(adaptive_avg_pool2d_values(&Tensor::from_f32(vec![1, 0, 4], vec![]), 1, 1).is_err());
    }
}

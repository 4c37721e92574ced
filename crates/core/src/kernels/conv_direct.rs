//! Direct 2-D convolution for shallow layers: stride 1, no padding, no dilation, and a small
//! depth `k = C·kh·kw` (a first layer on images, C = 1…3). There, im2col + GEMM moves every
//! input pixel `kh·kw` times through memory twice (im2col, then packing) to feed a GEMM only
//! `k` deep, so the direct loop over taps wins.

/// Deepest `k = C·kh·kw` the direct kernel takes (it keeps one input offset per tap).
pub const MAX_TAPS: usize = 64;

/// Whether `conv_direct` applies: see the module comment. `ow ≥ 8` lets the SIMD twin cover
/// every row with whole 8-wide strips, and its tap loop needs at least one tap.
pub fn applies(c: usize, kh: usize, kw: usize, ow: usize) -> bool {
    (1..=MAX_TAPS).contains(&(c * kh * kw)) && ow >= 8
}

/// Input offsets of the `k = c·kh·kw` taps from a window's top-left pixel, in (ci, i, j) order.
fn tap_offsets(c: usize, h: usize, w: usize, kh: usize, kw: usize) -> [usize; MAX_TAPS] {
    let mut offs = [0usize; MAX_TAPS];
    for ci in 0..c {
        for i in 0..kh {
            for j in 0..kw {
                offs[(ci * kh + i) * kw + j] = ci * h * w + i * w + j;
            }
        }
    }
    offs
}

/// One sample: `out[oc][y][x] = bias[oc] + Σ_{ci,i,j} w[oc][ci][i][j] · x[ci][y+i][x+j]` for an
/// `oh×ow` output (`oh = h − kh + 1`, `ow = w − kw + 1`); `x` is `[c, h, w]`, `wt` is
/// `[o, c, kh, kw]`, `out` is `[o, oh, ow]`. Taps are summed in (ci, i, j) order onto the bias.
#[allow(clippy::too_many_arguments)]
pub fn conv_direct(x: &[f32], c: usize, h: usize, w: usize, wt: &[f32], bias: Option<&[f32]>, o: usize, kh: usize, kw: usize, out: &mut [f32]) {
    let (oh, ow) = (h + 1 - kh, w + 1 - kw);
    let k = c * kh * kw;
    let offs = tap_offsets(c, h, w, kh, kw);
    let offs = &offs[..k];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::simd::conv_direct::conv_direct(x, w, wt, bias, o, k, offs, oh, ow, out);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for oc in 0..o {
        let wrow = &wt[oc * k..(oc + 1) * k];
        let b = bias.map_or(0.0, |b| b[oc]);
        for y in 0..oh {
            for xx in 0..ow {
                let base = y * w + xx;
                let mut acc = b;
                for (&wv, &off) in wrow.iter().zip(offs) {
                    acc += wv * x[base + off];
                }
                out[(oc * oh + y) * ow + xx] = acc;
            }
        }
    }
}

// out[oc][y][x] = Σ_t wt[oc][t] · x[y·w + x + off_t]  ⇒  dwt[oc][t] += Σ_{y,x} dy[oc][y][x] · x[y·w + x + off_t]
/// The weight gradient of `conv_direct` for one sample, added onto `dwt` (`[o, c, kh, kw]`);
/// `dy` is `[o, oh, ow]`. Where the direct forward pass applies, this replaces the GEMM
/// `dY · col(X)ᵀ`, whose `o × k` result is too small a tile grid to amortise packing a
/// `k × oh·ow` panel per slab.
#[allow(clippy::too_many_arguments)]
pub fn conv_direct_weight_grad(x: &[f32], c: usize, h: usize, w: usize, dy: &[f32], o: usize, kh: usize, kw: usize, dwt: &mut [f32]) {
    let (oh, ow) = (h + 1 - kh, w + 1 - kw);
    let k = c * kh * kw;
    let offs = tap_offsets(c, h, w, kh, kw);
    let offs = &offs[..k];
    // The SIMD twin sums the leading whole vectors of every output row; the rest is done here.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = super::simd::conv_direct::weight_grad(x, w, dy, o, k, offs, oh, ow, dwt);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for oc in 0..o {
        for (t, &off) in offs.iter().enumerate() {
            let mut acc = 0.0f32;
            for y in 0..oh {
                for xx in done..ow {
                    acc += dy[(oc * oh + y) * ow + xx] * x[y * w + xx + off];
                }
            }
            dwt[oc * k + t] += acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition() {
        let (c, h, w, o, kh, kw) = (2, 9, 12, 5, 3, 4);
        let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let wt: Vec<f32> = (0..o * c * kh * kw).map(|i| ((i * 5) % 9) as f32 * 0.25 - 1.0).collect();
        let bias: Vec<f32> = (0..o).map(|i| i as f32).collect();
        let (oh, ow) = (h - kh + 1, w - kw + 1);
        let mut out = vec![f32::NAN; o * oh * ow];
        conv_direct(&x, c, h, w, &wt, Some(&bias), o, kh, kw, &mut out);
        for oc in 0..o {
            for y in 0..oh {
                for xx in 0..ow {
                    let mut want = bias[oc];
                    for ci in 0..c {
                        for i in 0..kh {
                            for j in 0..kw {
                                want += wt[((oc * c + ci) * kh + i) * kw + j] * x[(ci * h + y + i) * w + xx + j];
                            }
                        }
                    }
                    assert_eq!(out[(oc * oh + y) * ow + xx], want);
                }
            }
        }
    }

    #[test]
    fn weight_grad_matches_the_definition() {
        // Rows of 9 outputs: whole vectors and a scalar tail (on wasm); an odd channel count.
        let (c, h, w, o, kh, kw) = (2, 7, 12, 3, 3, 4);
        let (oh, ow) = (h - kh + 1, w - kw + 1);
        let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let dy: Vec<f32> = (0..o * oh * ow).map(|i| ((i * 5) % 9) as f32 * 0.25 - 1.0).collect();
        let mut dwt = vec![1.0f32; o * c * kh * kw];
        conv_direct_weight_grad(&x, c, h, w, &dy, o, kh, kw, &mut dwt);
        for oc in 0..o {
            for ci in 0..c {
                for i in 0..kh {
                    for j in 0..kw {
                        let mut want = 0.0f32;
                        for y in 0..oh {
                            for xx in 0..ow {
                                want += dy[(oc * oh + y) * ow + xx] * x[(ci * h + y + i) * w + xx + j];
                            }
                        }
                        // Small integers times quarters: exact in any summation order.
                        assert_eq!(dwt[((oc * c + ci) * kh + i) * kw + j], 1.0 + want);
                    }
                }
            }
        }
    }
}

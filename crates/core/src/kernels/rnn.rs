//! Per-time-step gate kernels of the fused recurrent op (`ops::rnn`): the elementwise part
//! of one step for a whole batch, forward and backward. The matrix products around them
//! (input projections for all steps, the hidden projection of each step, the weight
//! gradients) are GEMMs in `ops::rnn`; what is left here is cheap, so it stays scalar.
//!
//! Layouts, all row-major with one row per batch element:
//! - `gi`, `gh`: the input and hidden projections of one step (`[B, G·H]`, biases added),
//!   gate blocks in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
//! - `active[b]`: whether batch element `b` has a real (not padded) input at this step.
//!   An inactive row carries its state through unchanged and gets no gate gradients, which
//!   is how PyTorch's packed sequences behave.

/// Logistic function without overflow for large |x|.
#[inline]
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Elman step: h' = act(gi + gh) for active rows, h' = h otherwise.
pub fn rnn_step(relu: bool, hs: usize, gi: &[f32], gh: &[f32], h: &[f32], active: &[bool], h_out: &mut [f32]) {
    for (b, &on) in active.iter().enumerate() {
        let r = b * hs..(b + 1) * hs;
        if !on {
            h_out[r.clone()].copy_from_slice(&h[r]);
            continue;
        }
        for j in r {
            let a = gi[j] + gh[j];
            h_out[j] = if relu { a.max(0.0) } else { a.tanh() };
        }
    }
}

/// Elman step backward. With h' = act(a): da = dh·act'(a), read off h' (tanh' = 1 − h'²,
/// relu' = [h' > 0]). Inactive rows pass dh to the previous state (`dh_direct`).
pub fn rnn_step_backward(relu: bool, hs: usize, dh: &[f32], h_out: &[f32], active: &[bool], da: &mut [f32], dh_direct: &mut [f32]) {
    for (b, &on) in active.iter().enumerate() {
        for j in b * hs..(b + 1) * hs {
            if on {
                let y = h_out[j];
                da[j] = dh[j] * if relu { (y > 0.0) as u8 as f32 } else { 1.0 - y * y };
                dh_direct[j] = 0.0;
            } else {
                da[j] = 0.0;
                dh_direct[j] = dh[j];
            }
        }
    }
}

/// LSTM step: i, f, o = σ(·), g = tanh(·); c' = f·c + i·g; h' = o·tanh(c').
/// `gates` receives the activated i, f, g, o (`[B, 4H]`), which backward needs.
#[allow(clippy::too_many_arguments)]
pub fn lstm_step(
    hs: usize,
    gi: &[f32],
    gh: &[f32],
    h: &[f32],
    c: &[f32],
    active: &[bool],
    gates: &mut [f32],
    h_out: &mut [f32],
    c_out: &mut [f32],
) {
    let g4 = 4 * hs;
    for (b, &on) in active.iter().enumerate() {
        let r = b * hs..(b + 1) * hs;
        if !on {
            h_out[r.clone()].copy_from_slice(&h[r.clone()]);
            c_out[r.clone()].copy_from_slice(&c[r]);
            gates[b * g4..(b + 1) * g4].iter_mut().for_each(|v| *v = 0.0);
            continue;
        }
        for j in 0..hs {
            let at = |k: usize| b * g4 + k * hs + j;
            let i = sigmoid(gi[at(0)] + gh[at(0)]);
            let f = sigmoid(gi[at(1)] + gh[at(1)]);
            let g = (gi[at(2)] + gh[at(2)]).tanh();
            let o = sigmoid(gi[at(3)] + gh[at(3)]);
            let cn = f * c[b * hs + j] + i * g;
            gates[at(0)] = i;
            gates[at(1)] = f;
            gates[at(2)] = g;
            gates[at(3)] = o;
            c_out[b * hs + j] = cn;
            h_out[b * hs + j] = o * cn.tanh();
        }
    }
}

/// LSTM step backward, given the total gradients dh, dc of this step's h', c':
/// dc_tot = dc + dh·o·(1 − tanh²c'); do = dh·tanh c'; di = dc_tot·g; df = dc_tot·c;
/// dg = dc_tot·i; dc_prev = dc_tot·f; pre-activation grads multiply by σ' = s(1 − s) for
/// i, f, o and tanh' = 1 − g² for g. Inactive rows pass dh, dc through unchanged.
#[allow(clippy::too_many_arguments)]
pub fn lstm_step_backward(
    hs: usize,
    dh: &[f32],
    dc: &[f32],
    gates: &[f32],
    c_prev: &[f32],
    c_out: &[f32],
    active: &[bool],
    da: &mut [f32],
    dh_direct: &mut [f32],
    dc_prev: &mut [f32],
) {
    let g4 = 4 * hs;
    for (b, &on) in active.iter().enumerate() {
        if !on {
            for j in b * hs..(b + 1) * hs {
                dh_direct[j] = dh[j];
                dc_prev[j] = dc[j];
            }
            da[b * g4..(b + 1) * g4].iter_mut().for_each(|v| *v = 0.0);
            continue;
        }
        for j in 0..hs {
            let at = |k: usize| b * g4 + k * hs + j;
            let s = b * hs + j;
            let (i, f, g, o) = (gates[at(0)], gates[at(1)], gates[at(2)], gates[at(3)]);
            let tc = c_out[s].tanh();
            let dct = dc[s] + dh[s] * o * (1.0 - tc * tc);
            da[at(0)] = dct * g * i * (1.0 - i);
            da[at(1)] = dct * c_prev[s] * f * (1.0 - f);
            da[at(2)] = dct * i * (1.0 - g * g);
            da[at(3)] = dh[s] * tc * o * (1.0 - o);
            dc_prev[s] = dct * f;
            dh_direct[s] = 0.0;
        }
    }
}

/// GRU step: r, z = σ(gi + gh); n = tanh(gi_n + r·gh_n); h' = (1 − z)·n + z·h.
/// `gates` receives r, z, n and gh_n (`[B, 4H]`): backward needs gh_n = W_hn·h + b_hn.
pub fn gru_step(hs: usize, gi: &[f32], gh: &[f32], h: &[f32], active: &[bool], gates: &mut [f32], h_out: &mut [f32]) {
    let (g3, g4) = (3 * hs, 4 * hs);
    for (b, &on) in active.iter().enumerate() {
        let rr = b * hs..(b + 1) * hs;
        if !on {
            h_out[rr.clone()].copy_from_slice(&h[rr]);
            gates[b * g4..(b + 1) * g4].iter_mut().for_each(|v| *v = 0.0);
            continue;
        }
        for j in 0..hs {
            let at = |k: usize| b * g3 + k * hs + j;
            let r = sigmoid(gi[at(0)] + gh[at(0)]);
            let z = sigmoid(gi[at(1)] + gh[at(1)]);
            let ghn = gh[at(2)];
            let n = (gi[at(2)] + r * ghn).tanh();
            let s = b * hs + j;
            let o = b * g4 + j;
            gates[o] = r;
            gates[o + hs] = z;
            gates[o + 2 * hs] = n;
            gates[o + 3 * hs] = ghn;
            h_out[s] = (1.0 - z) * n + z * h[s];
        }
    }
}

/// GRU step backward: dn = dh·(1 − z); dz = dh·(h − n); dh_direct = dh·z;
/// da_n = dn·(1 − n²); da_r = da_n·gh_n·r(1 − r); da_z = dz·z(1 − z).
/// The input side gets (da_r, da_z, da_n) in `da_i`; the hidden side gets
/// (da_r, da_z, da_n·r) in `da_h`, because r multiplies W_hn·h + b_hn.
#[allow(clippy::too_many_arguments)]
pub fn gru_step_backward(
    hs: usize,
    dh: &[f32],
    gates: &[f32],
    h_prev: &[f32],
    active: &[bool],
    da_i: &mut [f32],
    da_h: &mut [f32],
    dh_direct: &mut [f32],
) {
    let (g3, g4) = (3 * hs, 4 * hs);
    for (b, &on) in active.iter().enumerate() {
        if !on {
            dh_direct[b * hs..(b + 1) * hs].copy_from_slice(&dh[b * hs..(b + 1) * hs]);
            da_i[b * g3..(b + 1) * g3].iter_mut().for_each(|v| *v = 0.0);
            da_h[b * g3..(b + 1) * g3].iter_mut().for_each(|v| *v = 0.0);
            continue;
        }
        for j in 0..hs {
            let s = b * hs + j;
            let o = b * g4 + j;
            let (r, z, n, ghn) = (gates[o], gates[o + hs], gates[o + 2 * hs], gates[o + 3 * hs]);
            let d = dh[s];
            let dan = d * (1.0 - z) * (1.0 - n * n);
            let dar = dan * ghn * r * (1.0 - r);
            let daz = d * (h_prev[s] - n) * z * (1.0 - z);
            let at = |k: usize| b * g3 + k * hs + j;
            da_i[at(0)] = dar;
            da_i[at(1)] = daz;
            da_i[at(2)] = dan;
            da_h[at(0)] = dar;
            da_h[at(1)] = daz;
            da_h[at(2)] = dan * r;
            dh_direct[s] = d * z;
        }
    }
}

// ferrograd side of `npm run bench`: one process, the workloads named by --workloads, per-call
// times in milliseconds as one JSON line (see bench/common.ts).
import { nn, optim, randn, randint, tidy, noGrad, F, type Tensor } from '../../ts/index.js';
import { WORKLOADS, measure, parseArgs, planFrom, report } from '../common.js';
import { LectureCnn } from '../lecture-cnn.js';

const args = parseArgs(process.argv.slice(2));
const plan = planFrom(args);
const wanted = typeof args.workloads === 'string' ? args.workloads.split(',') : WORKLOADS.map((w) => w.id);

function matmul(n: number, layout: 'ab' | 'atb' | 'abt'): () => void {
  const a = randn([n, n]);
  const b = randn([n, n]);
  // Aᵀ·B through the public API: t() materialises the transpose (a copy), then A·B runs.
  // A·Bᵀ is exactly F.linear without bias (x·Wᵀ), which reads B transposed in place.
  // `void`: tidy keeps and returns what its function returns, and each result must be freed
  // within the call (as the tfjs runner disposes its own), not left to the garbage collector.
  if (layout === 'ab') return () => tidy(() => void a.matmul(b));
  if (layout === 'atb') return () => tidy(() => void a.t().matmul(b));
  return () => tidy(() => void F.linear(a, b));
}

function trainStep(model: nn.Module, x: Tensor, y: Tensor): () => void {
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  model.train();
  return () =>
    tidy(() => {
      opt.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      opt.step();
    });
}

function inference(batch: number): () => void {
  const model = new LectureCnn();
  model.eval();
  const x = randn([batch, 1, 28, 28]);
  return () => noGrad(() => tidy(() => void model.forward(x)));
}

const make: Record<string, () => () => void> = {
  mm512_ab: () => matmul(512, 'ab'),
  mm256_atb: () => matmul(256, 'atb'),
  mm256_abt: () => matmul(256, 'abt'),
  mm1024_atb: () => matmul(1024, 'atb'),
  mm1024_abt: () => matmul(1024, 'abt'),
  mlp_train: () =>
    trainStep(
      new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10)),
      randn([64, 784]),
      randint(0, 10, [64]),
    ),
  cnn_train: () => trainStep(new LectureCnn(), randn([64, 1, 28, 28]), randint(0, 10, [64])),
  cnn_infer64: () => inference(64),
  cnn_infer1: () => inference(1),
};

const results: Record<string, number[]> = {};
for (const id of wanted) {
  const f = make[id];
  if (f) results[id] = measure(f(), plan);
}
report({
  lib: 'ferrograd',
  notes: ['Aᵀ·B is a.t().matmul(b): the public API materialises t() before the GEMM; A·Bᵀ is F.linear(a, b) (no copy)'],
  results,
});

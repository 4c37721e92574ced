// Where the time goes in one MLP and one CNN train step: each stage timed on its own
// (median of many runs after warm-up). Usage: npx tsx bench/profile.ts [mlp|cnn ...]
import { nn, optim, randn, randint, tidy, noGrad, type Tensor } from '../ts/index.js';
import { LectureCnn } from './lecture-cnn.js';

function med(fn: () => void, n = 30): number {
  // Warm up long enough for V8 to tier the wasm up from Liftoff to TurboFan.
  const w0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - w0 < 300; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1]!;
}

function row(name: string, ms: number): void {
  console.log(`  ${name.padEnd(44)} ${ms.toFixed(3).padStart(8)} ms`);
}

function stages(title: string, model: nn.Module, x: Tensor, y: Tensor, layers: [string, (t: Tensor) => Tensor][]): void {
  const lossFn = new nn.CrossEntropyLoss();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  console.log(title);
  row('full step (zeroGrad, forward, loss, backward, step)', med(() => tidy(() => {
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y).backward();
    opt.step();
  })));
  row('forward + loss', med(() => tidy(() => void lossFn.forward(model.forward(x), y))));
  row('forward + loss + backward', med(() => tidy(() => lossFn.forward(model.forward(x), y).backward())));
  row('optimizer step + zeroGrad', med(() => { opt.step(); opt.zeroGrad(); }));
  // Each layer forward on its own input, and forward + backward of that layer alone.
  let h = x;
  for (const [name, f] of layers) {
    const inp = h.detach().requiresGrad_(true);
    row(`${name} forward`, med(() => noGrad(() => tidy(() => void f(inp)))));
    row(`${name} forward + backward`, med(() => tidy(() => f(inp).sum().backward())));
    h = noGrad(() => f(inp));
  }
}

const which = process.argv.slice(2);
if (!which.length || which.includes('mlp')) {
  const l1 = new nn.Linear(784, 256), l2 = new nn.Linear(256, 128), l3 = new nn.Linear(128, 10);
  const model = new nn.Sequential(l1, new nn.ReLU(), l2, new nn.ReLU(), l3);
  stages('MLP 784-256-128-10, batch 64', model, randn([64, 784]), randint(0, 10, [64]), [
    ['fc1 784→256', (t) => l1.forward(t)],
    ['relu', (t) => t.relu()],
    ['fc2 256→128', (t) => l2.forward(t)],
    ['relu', (t) => t.relu()],
    ['fc3 128→10', (t) => l3.forward(t)],
  ]);
}
if (!which.length || which.includes('cnn')) {
  const cnn = new LectureCnn();
  stages('lecture CNN, batch 64', cnn, randn([64, 1, 28, 28]), randint(0, 10, [64]), [
    ['conv1 1→10 k5', (t) => cnn.conv1.forward(t)],
    ['relu', (t) => t.relu()],
    ['maxpool 2', (t) => cnn.pool1.forward(t)],
    ['conv2 10→20 k5', (t) => cnn.conv2.forward(t)],
    ['relu', (t) => t.relu()],
    ['maxpool 2', (t) => cnn.pool2.forward(t)],
    ['flatten + dropout', (t) => cnn.dropout.forward(t.flatten(1))],
    ['fc1 320→100', (t) => cnn.fc1.forward(t)],
    ['relu', (t) => t.relu()],
    ['fc2 100→10', (t) => cnn.fc2.forward(t)],
  ]);
}

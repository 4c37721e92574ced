// The data namespace (torch.utils.data).

export { TensorDataset, Subset, ConcatDataset, randomSplit, type Dataset, type RandomSplitOptions } from './dataset.js';
export { DataLoader, type DataLoaderOptions, type TensorRows } from './dataloader.js';
export { defaultCollate, type Collated } from './collate.js';
export { Generator } from './generator.js';

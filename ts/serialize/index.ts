// Models as bytes: architecture + weights in one safetensors file (see ./model.ts).

export {
  saveModel, loadModel, loadModelAsync, describeModel, readArchitecture, withSource,
  type ModuleSource, type SaveModelOptions, type LoadModelOptions, type ModuleClass,
  type ArchitectureNode, type LayerNode, type SourceNode,
} from './model.js';
export { registerModule, type ModuleCodec } from './registry.js';
export { ConfigReader, type Json } from './json.js';

// Building an ONNX graph and writing it as a ModelProto (ONNX IR spec, docs/IR.md: a graph of nodes over named
// values, initializers for the weights, typed inputs and outputs whose dimensions are numbers or symbolic names).
// The protobuf is encoded by onnx-proto, the protobufjs code generated from the official onnx.proto.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The operator set the graphs use: 17, where LayerNormalization is one op (ONNX Operators.md). */
export const OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX Versioning.md). */
const IR_VERSION = 8;

/** Element types the graphs use, with their TensorProto.DataType codes. */
export const DTYPES = { float32: 1, int64: 7, bool: 9 } as const;
/** An element type name. */
export type DType = keyof typeof DTYPES;

/** A dimension: a fixed size or a symbolic name shared by the inputs and outputs that have it (a dynamic axis). */
export type Dim = number | string;

/** A graph input or output as config.json describes it. */
export interface ValueSpec { name: string; dtype: DType; shape: Dim[]; }

/** An attribute value: int, float, ints, or a string. */
type Attribute = number | number[] | string | { float: number };

/** Converts a spec to a ValueInfoProto. */
function valueInfo(spec: ValueSpec): onnxProto.onnx.IValueInfoProto {
  const dim = spec.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: spec.name, type: { tensorType: { elemType: DTYPES[spec.dtype], shape: { dim } } } };
}

/** An AttributeProto: integers as INT(S), `{ float }` as FLOAT, text as STRING. */
function attribute(name: string, value: Attribute): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'object') return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.INT, i: value };
}

/** Little-endian bytes of a typed array (TensorProto.raw_data is little-endian). */
function rawBytes(data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Accumulates nodes, initializers, inputs and outputs of one graph; `encode` writes the ModelProto. */
export class GraphBuilder {
  readonly inputs: ValueSpec[] = [];
  readonly outputs: ValueSpec[] = [];
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers = new Map<string, onnxProto.onnx.ITensorProto>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input; returns its name. */
  input(name: string, dtype: DType, shape: Dim[]): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Declares `value` as the graph output `name` (an Identity node renames it). */
  output(value: string, name: string, dtype: DType, shape: Dim[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `output/${name}` });
    this.outputs.push({ name, dtype, shape });
  }

  /** Registers a weight once under `name` (later calls with the same name reuse it); returns the name. */
  weight(name: string, data: Float32Array, dims: number[]): string {
    if (!this.initializers.has(name)) {
      const count = dims.reduce((a, b) => a * b, 1);
      if (data.length !== count) throw new Error(`ONNX weight ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
      this.initializers.set(name, { name, dims, dataType: DTYPES.float32, rawData: rawBytes(data) });
    }
    return name;
  }

  /** A constant float32 or int64 tensor (an initializer with a fresh name). */
  constant(values: number[], dtype: 'float32' | 'int64', dims: number[] = [values.length]): string {
    const name = `const_${this.counter++}`;
    const data = dtype === 'float32' ? Float32Array.from(values) : BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.set(name, { name, dims, dataType: DTYPES[dtype], rawData: rawBytes(data) });
    return name;
  }

  /** A scalar constant (rank 0). */
  scalar(value: number, dtype: 'float32' | 'int64'): string {
    return this.constant([value], dtype, []);
  }

  /** Adds a node of `opType` (default domain) with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attribute> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0]!;
  }

  /** Adds a node with `count` outputs; returns their names. */
  opN(opType: string, inputs: string[], count: number, attrs: Record<string, Attribute> = {}): string[] {
    const id = `${opType}_${this.counter++}`;
    const output = Array.from({ length: count }, (_, i) => (count === 1 ? id : `${id}:${i}`));
    this.nodes.push({ opType, input: inputs, output, name: id, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** The serialised ModelProto of this graph (opset 17, IR 8). */
  encode(docString: string): Uint8Array {
    const graph: onnxProto.onnx.IGraphProto = {
      name: this.name, node: this.nodes, initializer: [...this.initializers.values()],
      input: this.inputs.map(valueInfo), output: this.outputs.map(valueInfo),
    };
    const model: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION, opsetImport: [{ domain: '', version: OPSET }], producerName: 'aiayn', producerVersion: '0.1.0',
      docString, graph,
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

#!/usr/bin/python3
"""Check a model directory's model.onnx against its model.pt without onnxruntime.

  /usr/bin/python3 tools/onnx_check.py MODEL_DIR [MODEL_DIR ...]

Debian has no onnxruntime package, so this runs the ONNX graph with a small numpy
interpreter that covers exactly the operators the exporter emits for the
GPT-NeoX graph (opset 14), on several batch sizes / lengths with right padding, and
compares logits and hidden states with the TorchScript model (max |diff| <= 1e-4).
"""
import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402

_erf = np.vectorize(math.erf, otypes=[np.float64])

_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def run(model: onnx.ModelProto, feeds: dict) -> list:
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for n in model.graph.node:
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            y = numpy_helper.to_array(_attr(n, "value"))
        elif op == "Identity":
            y = x[0]
        elif op in ("Add", "Sub", "Mul", "Div", "Pow", "And", "Equal", "LessOrEqual"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power,
                 "And": np.logical_and, "Equal": np.equal, "LessOrEqual": np.less_equal}.get(op)
            if op == "Div":
                y = (x[0] // x[1]) if np.issubdtype(x[0].dtype, np.integer) else x[0] / x[1]
            else:
                y = f(x[0], x[1])
            if op in ("Add", "Sub", "Mul", "Div", "Pow"):
                y = np.asarray(y).astype(x[0].dtype)
        elif op in ("Cos", "Sin", "Neg", "Not", "Sqrt", "Reciprocal"):
            f = {"Cos": np.cos, "Sin": np.sin, "Neg": np.negative, "Not": np.logical_not,
                 "Sqrt": np.sqrt, "Reciprocal": np.reciprocal}[op]
            y = f(x[0])
        elif op == "Erf":
            y = _erf(x[0]).astype(x[0].dtype)
        elif op == "Cast":
            y = x[0].astype(_DTYPES[_attr(n, "to")])
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "ConstantOfShape":
            v = _attr(n, "value")
            v = numpy_helper.to_array(v) if v is not None else np.zeros(1, np.float32)
            y = np.full(tuple(x[0].tolist()), v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=_attr(n, "axis", 0))
        elif op == "Concat":
            y = np.concatenate(x, axis=_attr(n, "axis"))
        elif op == "Unsqueeze":
            y = x[0]
            axes = sorted(int(a) % (y.ndim + len(x[1])) for a in x[1].reshape(-1))
            for a in axes:
                y = np.expand_dims(y, a)
        elif op == "Squeeze":
            y = np.squeeze(x[0], axis=tuple(int(a) for a in x[1].reshape(-1))) if len(x) > 1 and x[1] is not None else np.squeeze(x[0])
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Expand":
            shape = tuple(int(s) for s in x[1])
            y = x[0] * np.ones(shape, dtype=x[0].dtype) if x[0].dtype != np.bool_ else np.broadcast_to(x[0], np.broadcast_shapes(x[0].shape, shape))
        elif op == "Transpose":
            y = np.transpose(x[0], _attr(n, "perm"))
        elif op == "Slice":
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else np.arange(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else np.ones(len(starts), np.int64)
            sl = [slice(None)] * x[0].ndim
            for s, e, a, st in zip(starts, ends, axes, steps):
                dim = x[0].shape[int(a)]
                s, e = int(max(min(s, dim), -dim - 1)), int(max(min(e, dim), -dim - 1))
                sl[int(a)] = slice(s, e, int(st))
            y = x[0][tuple(sl)]
        elif op == "CumSum":
            y = np.cumsum(x[0], axis=int(x[1])).astype(x[0].dtype)
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Softmax":
            ax = _attr(n, "axis", -1)
            z = x[0] - x[0].max(axis=ax, keepdims=True)
            e = np.exp(z)
            y = e / e.sum(axis=ax, keepdims=True)
        elif op == "ReduceMean":
            y = x[0].mean(axis=tuple(_attr(n, "axes")), keepdims=bool(_attr(n, "keepdims", 1)))
        elif op == "Where":
            y = np.where(x[0], x[1], x[2])
        else:
            raise ValueError("onnx_check has no kernel for ONNX op " + op + " (add a branch here to check this graph)")
        env[n.output[0]] = np.asarray(y)
    return [env[o.name] for o in model.graph.output]


def check(model_dir: str) -> float:
    m = onnx.load(os.path.join(model_dir, "model.onnx"))
    ts = torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
    gen = torch.Generator().manual_seed(3)
    worst = 0.0
    for b, t in ((1, 1), (2, 9), (3, 40)):
        ids = torch.randint(0, 257, (b, t), generator=gen)
        mask = torch.ones(b, t, dtype=torch.long)
        if b > 1:
            mask[1, t // 2 + 1:] = 0
        with torch.no_grad():
            tl, th = ts(ids, mask)
        ol, oh = run(m, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
        dl = float(np.abs(ol - tl.numpy()).max())
        dh = float(np.abs(oh - th.numpy()).max())
        print("%s B=%d T=%d: onnx vs torchscript logits %.2e hidden %.2e shapes %s %s"
              % (model_dir, b, t, dl, dh, ol.shape, oh.shape))
        worst = max(worst, dl, dh)
    return worst


def main(argv):
    torch.set_num_threads(1)
    worst = max(check(d) for d in argv)
    if worst > 1e-4:
        print("FAIL")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["common/src/test/resources/models/random-small"]))

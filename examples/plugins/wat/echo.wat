;; A complete Vigil plugin in WebAssembly text: `echo(x)` returns its arguments as an array.
;; It shows the whole ABI (docs/plugins.md): exported memory, vigil_alloc, a function taking
;; (ptr, len) of a JSON array of arguments and returning ptr << 32 | len of {"ok": value}, and the
;; manifest in the custom section `vigil.manifest`.
(module
  (memory (export "memory") 1)
  ;; The result prefix, at address 0.
  (data (i32.const 0) "{\"ok\":")

  ;; The host calls vigil_alloc once per call, for the arguments, and reads the result before the
  ;; next call: so the arguments can always go at 1024 and the result right after them.
  (func (export "vigil_alloc") (param $len i32) (result i32)
    (local $end i32)
    ;; room for the arguments and the result: 1024 + 2 * len + 16 bytes
    (local.set $end (i32.add (i32.const 1040) (i32.shl (local.get $len) (i32.const 1))))
    (block $enough
      (br_if $enough (i32.le_u (local.get $end) (i32.shl (memory.size) (i32.const 16))))
      (br_if $enough
        (i32.ne
          (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                                (memory.size)))
          (i32.const -1)))
      unreachable)
    (i32.const 1024))

  ;; echo: copies {"ok": + the arguments + } after the arguments.
  (func (export "echo") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32)
    (local.set $out (i32.add (local.get $ptr) (local.get $len)))
    (memory.copy (local.get $out) (i32.const 0) (i32.const 6))
    (memory.copy (i32.add (local.get $out) (i32.const 6)) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 6)) (local.get $len)) (i32.const 125)) ;; }
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
      (i64.extend_i32_u (i32.add (local.get $len) (i32.const 7)))))

  (@custom "vigil.manifest"
    "{\"abi\": 1, \"functions\": [{\"name\": \"echo\", \"params\": [\"any\"], \"returns\": \"array\", \"doc\": \"Its argument, in an array.\"}]}")
)

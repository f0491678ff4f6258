import CNTKitCPU
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One dense layer's operands for the fused structured-NTK kernel (trace
/// mode, float32): layer inputs A1 (rows1 × ka), A2 (rows2 × ka) and output
/// cotangents G1 (rows1 × kg), G2 (rows2 × kg), row-major, reduction contiguous.
struct FusedStructuredLayer {
  var a1: UnsafePointer<Float>, a2: UnsafePointer<Float>
  var g1: UnsafePointer<Float>, g2: UnsafePointer<Float>
  var ka: Int, kg: Int
  var scale: Float, c: Float
}

extension CPUDevice {
  /// Writes the whole trace-NTK tile of the structured layers in one pass:
  ///
  ///     out[i·ldo + j] = Σ_l (scale_l·⟨A1_l[i], A2_l[j]⟩ + c_l)·⟨G1_l[i], G2_l[j]⟩
  ///
  /// (overwriting; rows1 × rows2 entries). Runs the C kernel of
  /// `ntkit_fused_gram.c` (AVX-512, AVX2 or portable per `NTKIT_ISA`), its
  /// rows split over the workers. Every entry is a fixed sequence of fused
  /// multiply-adds, so the result does not depend on the instruction set or
  /// the worker count.
  func fusedStructuredGram(_ layers: [FusedStructuredLayer], rows1: Int, rows2: Int,
                           out: UnsafeMutablePointer<Float>, ldo: Int) {
    guard rows1 > 0, rows2 > 0 else { return }
    let c = layers.map {
      ntk_fused_layer_f32(a1: $0.a1, a2: $0.a2, g1: $0.g1, g2: $0.g2, ka: $0.ka, kg: $0.kg, scale: $0.scale, c: $0.c)
    }
    c.withUnsafeBufferPointer { lp in
      let scratchFloats = ntk_fused_gram_scratch_f32(lp.baseAddress, lp.count)
      // Row chunks in multiples of 48 (whole micro-tiles of every kernel: 4, 6, 8 rows).
      let workers = min(CPUThreads.count, max(1, (rows1 + 47) / 48))
      let chunk = ((rows1 + workers - 1) / workers + 47) / 48 * 48
      let run: (Int) -> Void = { w in
        let r0 = w * chunk
        guard r0 < rows1 else { return }
        let n = min(chunk, rows1 - r0)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, scratchFloats * MemoryLayout<Float>.stride) == 0, let raw else {
          fatalError("fused NTK kernel: cannot allocate \(scratchFloats * 4) bytes of scratch")
        }
        defer { free(raw) }
        // This worker's rows: shift the first-set operands.
        var mine = Array(lp)
        for l in mine.indices {
          mine[l].a1 = mine[l].a1 + r0 * mine[l].ka
          mine[l].g1 = mine[l].g1 + r0 * mine[l].kg
        }
        ntk_fused_gram_f32(mine, mine.count, n, rows2, out + r0 * ldo, ldo, raw.assumingMemoryBound(to: Float.self))
      }
      if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
    }
  }

  /// Scratch bytes per worker of `fusedStructuredGram` for `featuresPerSample`
  /// values (A and G of every layer) per sample (for memory budgets).
  static func fusedScratchBytes(featuresPerSample f: Int) -> Int {
    // 384 packed rows + 512 packed columns at most, plus a micro-tile.
    (384 + 512 + 32) * max(f, 1) * 4 + 4096
  }
}

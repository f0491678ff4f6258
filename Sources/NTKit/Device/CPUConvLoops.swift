import CNTKitCPU

/// The conv-net backward loops of `ntkit_conv_backward.c` (col2im, average-
/// pool backward, cotangent regrouping), dispatched by scalar type and split
/// over the samples on all cores. Each overwrites its output (no memset).
enum CPUConvLoops {
  /// Samples per chunk of a parallel loop whose samples each move `valuesPerSample` values.
  static func chunk(_ valuesPerSample: Int) -> Int { max(1, 65536 / max(valuesPerSample, 1)) }

  static func col2im<T: DeviceScalar>(_ g: ConvGeometry, cols: UnsafePointer<T>, image: UnsafeMutablePointer<T>, n: Int) {
    let patchValues = g.positions * g.patch
    parallelFor(n, minimumChunk: chunk(patchValues)) { range in
      let s = range.lowerBound, count = range.count
      if T.self == Float.self {
        ntk_col2im_f32(f32(cols + s * patchValues), f32(image + s * g.inputSize), count, c32(g.inH), c32(g.inW),
                       c32(g.inC), c32(g.kh), c32(g.kw), c32(g.sh), c32(g.sw), c32(g.padTop), c32(g.padLeft),
                       c32(g.outH), c32(g.outW))
      } else {
        ntk_col2im_f64(f64(cols + s * patchValues), f64(image + s * g.inputSize), count, c32(g.inH), c32(g.inW),
                       c32(g.inC), c32(g.kh), c32(g.kw), c32(g.sh), c32(g.sw), c32(g.padTop), c32(g.padLeft),
                       c32(g.outH), c32(g.outW))
      }
    }
  }

  static func avgPoolBackward<T: DeviceScalar>(_ p: PoolGeometry, pooled: UnsafePointer<T>, image: UnsafeMutablePointer<T>,
                                               n: Int) {
    parallelFor(n, minimumChunk: chunk(p.inputSize)) { range in
      let s = range.lowerBound, count = range.count
      if T.self == Float.self {
        ntk_avgpool_backward_f32(f32(pooled + s * p.outputSize), f32(image + s * p.inputSize), count, c32(p.inH),
                                 c32(p.inW), c32(p.channels), c32(p.wh), c32(p.ww), c32(p.sh), c32(p.sw),
                                 c32(p.outH), c32(p.outW))
      } else {
        ntk_avgpool_backward_f64(f64(pooled + s * p.outputSize), f64(image + s * p.inputSize), count, c32(p.inH),
                                 c32(p.inW), c32(p.channels), c32(p.wh), c32(p.ww), c32(p.sh), c32(p.sw),
                                 c32(p.outH), c32(p.outW))
      }
    }
  }

  static func interleave<T: DeviceScalar>(_ op: CotangentInterleaveOp<T>, source: UnsafePointer<T>,
                                          destination: UnsafeMutablePointer<T>, sums: UnsafeMutablePointer<T>?) {
    let perSample = op.m * op.positions * op.channels
    parallelFor(op.n, minimumChunk: chunk(perSample)) { range in
      let s = range.lowerBound
      let sumsHere = sums.map { $0 + s * op.ldSums }
      if T.self == Float.self {
        ntk_interleave_cotangents_f32(f32(source + s * perSample), f32(destination + s * perSample),
                                      sumsHere.map { f32($0) }, op.ldSums, op.scale.float, range.count, op.m,
                                      op.positions, op.channels)
      } else {
        ntk_interleave_cotangents_f64(f64(source + s * perSample), f64(destination + s * perSample),
                                      sumsHere.map { f64($0) }, op.ldSums, op.scale.double, range.count, op.m,
                                      op.positions, op.channels)
      }
    }
  }

  /// `ConvInputCotangentOp` in float32 (inC a multiple of 16): the kernel
  /// transposed per tap and scaled once, then the C kernel split over the images.
  static func inputCotangent(_ g: ConvGeometry, count: Int, alpha: Float, cotangent: UnsafeMutablePointer<Float>,
                             kernel: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>) {
    let taps = g.kh * g.kw
    var wt = [Float](repeating: 0, count: taps * g.outC * g.inC)
    for t in 0..<taps {
      for ci in 0..<g.inC {
        for co in 0..<g.outC { wt[(t * g.outC + co) * g.inC + ci] = alpha * kernel[(t * g.inC + ci) * g.outC + co] }
      }
    }
    let outSize = g.outputSize
    wt.withUnsafeBufferPointer { w in
      let wp = w.baseAddress!
      parallelFor(count, minimumChunk: 1) { range in
        let i = range.lowerBound
        ntk_conv_input_cotangent_f32(cotangent + i * outSize, wp, input + i * g.inputSize, range.count, c32(g.inH),
                                     c32(g.inW), c32(g.inC), c32(g.kh), c32(g.kw), c32(g.sh), c32(g.sw),
                                     c32(g.padTop), c32(g.padLeft), c32(g.outH), c32(g.outW), c32(g.outC))
      }
    }
  }

  /// `ConvFeaturesOp` in float32 (outC a multiple of 16), split over the samples.
  static func traceFeatures(_ op: ConvFeaturesOp<Float>, patches: UnsafeMutablePointer<Float>,
                            cotangent: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let perSample = op.m * op.positions * op.outC
    parallelFor(op.n, minimumChunk: 1) { range in
      let s = range.lowerBound
      ntk_conv_trace_features_f32(patches + s * op.positions * op.patch, cotangent + s * perSample, out + s * op.ld,
                                  op.ld, range.count, op.positions, op.patch, op.m, op.outC, op.weightScale,
                                  op.hasBias ? 1 : 0, op.biasScale)
    }
  }

  @inline(__always) private static func c32(_ v: Int) -> Int32 { Int32(clamping: v) }
  @inline(__always) private static func f32<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
  }
  @inline(__always) private static func f32<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
  }
  @inline(__always) private static func f64<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Double> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
  }
  @inline(__always) private static func f64<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Double> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
  }
}

extension UnsafeMutablePointer {
  /// The same memory as float32 (callers check that the scalar type is Float).
  var f32: UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: Float.self) }
}

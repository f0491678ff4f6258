import CFastMLP

/// `Trainer.train` for dense MLPs with an mse loss and Adam on the CPU device,
/// through the CFastMLP kernels of RND's fast path (`FastMLPTrainer`): the
/// same algorithm as the generic path (the same shuffles, epoch records and
/// loss definitions), with every sum in a fixed order and no OpenBLAS, so
/// the losses and final weights are the same bits on every x86-64 CPU,
/// instruction set and worker count. Losses are summed in float64.
/// `NTK_FAST_TRAIN=0` turns it off (the generic device path runs).
extension Trainer {
  /// The fast trainer when this run qualifies (a device with the fused host kernels, a network of dense layers with
  /// relu/leaky-relu/identity), starting from the current θ; nil otherwise.
  func fastMLP(capacity: Int) -> FastMLPTrainer? {
    guard device.capabilities.fusedHostKernels, FastMLPTrainer.enabled, let net = FastDenseMLP(network: network),
          let values = try? device.download(theta.view, count: network.parameterCount) else { return nil }
    _ = CPUConfiguration.current  // NTKIT_ISA for the CFastMLP kernels
    return FastMLPTrainer(net: net, parameters: values, capacity: capacity)
  }

  func trainFast(_ fast: FastMLPTrainer, inputs: Tensor, targets: [Float], epochs: Int, batch: Int, hyper: AdamHyper,
                 seed: UInt64, test: (inputs: Tensor, targets: TrainingTargets)?, recordTrainLoss: Bool,
                 onEpoch: ((EpochRecord) -> Void)?, isCancelled: (() -> Bool)?) throws -> TrainingHistory {
    let n = inputs.rows, m = network.outputSize
    var testY: [Float] = []
    if let test, case .values(let v) = test.targets { testY = v }
    let net = fast.net
    let testRows = test?.inputs.rows ?? 0
    let width = net.maxWidth
    let a = UnsafeMutablePointer<Float>.allocate(capacity: max(testRows * width, 1))
    let b = UnsafeMutablePointer<Float>.allocate(capacity: max(testRows * width, 1))
    let rowLoss = UnsafeMutablePointer<Float>.allocate(capacity: max(n, testRows, 1))
    defer { a.deallocate(); b.deallocate(); rowLoss.deallocate() }
    /// Σ over rows of the row mse (mean over M, in float64 per row), in row order.
    func lossSum(_ out: UnsafePointer<Float>, _ y: UnsafePointer<Float>, rows: Int) -> Double {
      ntk_fm_distances(y, out, rows, m, DistanceMetric.mse.code, rowLoss)
      var s = 0.0
      for i in 0..<rows { s += Double(rowLoss[i]) }
      return s
    }
    var order = Array(0..<n)
    var rng = SeededRandom(seed: seed, stream: "shuffle")
    var history = TrainingHistory(loss: .mse)
    let x = inputs.data, testX = test?.inputs.data ?? []
    try x.withUnsafeBufferPointer { xp in
      try targets.withUnsafeBufferPointer { yp in
        let x = xp.baseAddress!, y = yp.baseAddress!
        for epoch in stride(from: 1, through: epochs, by: 1) {
          FaultInjection.pause("compute")
          try Interrupt.check()
          if isCancelled?() == true { throw NTKitError.interrupted }
          let start = monotonicSeconds()
          var trainTotal = 0.0
          if batch < n {
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var lo = 0
            while lo < n {
              let rows = min(batch, n - lo)
              let (bx, by) = fast.gather(x: x, y: y, order: order[lo..<lo + rows])
              fast.step(x: bx, y: by, n: rows, hyper: hyper)
              if recordTrainLoss { trainTotal += lossSum(fast.lastOutput, by, rows: rows) }
              lo += rows
            }
          } else {
            fast.fitFullBatch(x: x, y: y, n: n, epochs: 1, hyper: hyper)
            if recordTrainLoss { trainTotal = lossSum(fast.lastOutput, y, rows: n) }
          }
          var record = EpochRecord(epoch: epoch, trainLoss: recordTrainLoss ? trainTotal / Double(n) : nil,
                                   trainAccuracy: nil, testLoss: nil, testAccuracy: nil, seconds: 0)
          if testRows > 0 {
            let out = testX.withUnsafeBufferPointer {
              net.forwardPingPong(theta: fast.theta, x: $0.baseAddress!, n: testRows, a: a, b: b)
            }
            record.testLoss = testY.withUnsafeBufferPointer { lossSum(out, $0.baseAddress!, rows: testRows) } / Double(testRows)
          }
          record.seconds = monotonicSeconds() - start
          try history.append(record, onEpoch: onEpoch)
        }
      }
    }
    // θ and the Adam state back on the device, as the generic path leaves them.
    let p = network.parameterCount
    try device.write(UnsafeBufferPointer(start: fast.theta, count: p), to: theta.view)
    try device.write(UnsafeBufferPointer(start: fast.m1, count: p), to: moment1.view)
    try device.write(UnsafeBufferPointer(start: fast.m2, count: p), to: moment2.view)
    adamSteps = fast.adamSteps
    return history
  }
}

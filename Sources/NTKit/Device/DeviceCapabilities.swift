/// What a device can do beyond the `ComputeDevice` primitives. Algorithms
/// ask for a capability ("may I write into host memory?", "are the fused
/// float32 host kernels there?") instead of for a device type, so a new
/// backend opts into a fast path by saying what it can do.
public struct DeviceCapabilities: Sendable, Equatable {
  /// Buffers are plain host memory (`DeviceBuffer.hostPointer` is set): an
  /// algorithm may read and write them directly, and may wrap host memory it
  /// owns as a buffer (`DeviceBuffer(count:handle:hostPointer:)`), e.g. to
  /// write Gram tiles straight into the output instead of through a tile buffer.
  public var hostAddressableMemory: Bool
  /// The fixed-order float32 host kernels (CNTKitCPU's fused trace-NTK tile
  /// and fixed-order GEMM, CFastMLP's dense-MLP training and RND steps) may
  /// run on this device's buffers. Implies `hostAddressableMemory`.
  public var fusedHostKernels: Bool
  /// The primitives may be called from several threads at once on disjoint
  /// buffers (each call then runs on its caller's thread): an algorithm may
  /// run independent work, e.g. a Gram's feature blocks, one per core.
  public var concurrentCalls: Bool

  public init(hostAddressableMemory: Bool, fusedHostKernels: Bool, concurrentCalls: Bool = false) {
    precondition(!fusedHostKernels || hostAddressableMemory, "fused host kernels need host-addressable memory")
    self.hostAddressableMemory = hostAddressableMemory
    self.fusedHostKernels = fusedHostKernels
    self.concurrentCalls = concurrentCalls
  }
}

extension ComputeDevice {
  /// The fixed-order host kernels when this device offers them
  /// (`capabilities.fusedHostKernels`), else nil. They keep no state of a
  /// device of their own: every call works only on the host memory it is given.
  var fusedKernels: CPUDevice? { capabilities.fusedHostKernels ? CPUDevice.shared : nil }
}

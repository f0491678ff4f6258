import CNTKitCPU

/// Element-wise loops the Swift compiler does not vectorise (a select on a
/// comparison): dispatched to the C loops of `CNTKitCPU` by scalar type.
enum CPUVectorLoops {
  /// g[(i·m + a)·width + k] = z[i·width + k] > 0 ? g : 0 (ReLU backward; NaN in z gives 0).
  @inline(__always)
  static func reluBackward<T: DeviceScalar>(_ g: UnsafeMutablePointer<T>, _ z: UnsafePointer<T>, n: Int, m: Int, width: Int) {
    if T.self == Float.self {
      ntk_relu_backward_f32(UnsafeMutableRawPointer(g).assumingMemoryBound(to: Float.self),
                            UnsafeRawPointer(z).assumingMemoryBound(to: Float.self), n, m, width)
    } else {
      ntk_relu_backward_f64(UnsafeMutableRawPointer(g).assumingMemoryBound(to: Double.self),
                            UnsafeRawPointer(z).assumingMemoryBound(to: Double.self), n, m, width)
    }
  }

  /// y[k] = max(z[k], 0) (ReLU forward; NaN in z gives 0).
  @inline(__always)
  static func relu<T: DeviceScalar>(_ y: UnsafeMutablePointer<T>, _ z: UnsafePointer<T>, _ count: Int) {
    if T.self == Float.self {
      ntk_relu_f32(UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
                   UnsafeRawPointer(z).assumingMemoryBound(to: Float.self), count)
    } else {
      ntk_relu_f64(UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self),
                   UnsafeRawPointer(z).assumingMemoryBound(to: Double.self), count)
    }
  }

  /// out[i·ldo + j] += (ka[i·nj + j] + c) · kg[i·nj + j].
  @inline(__always)
  static func hadamardAccumulate<T: DeviceScalar>(_ out: UnsafeMutablePointer<T>, ldo: Int, _ ka: UnsafePointer<T>,
                                                  _ kg: UnsafePointer<T>, ni: Int, nj: Int, c: T) {
    if T.self == Float.self {
      ntk_hadamard_accumulate_f32(UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self), ldo,
                                  UnsafeRawPointer(ka).assumingMemoryBound(to: Float.self),
                                  UnsafeRawPointer(kg).assumingMemoryBound(to: Float.self), ni, nj, c.float)
    } else {
      ntk_hadamard_accumulate_f64(UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self), ldo,
                                  UnsafeRawPointer(ka).assumingMemoryBound(to: Double.self),
                                  UnsafeRawPointer(kg).assumingMemoryBound(to: Double.self), ni, nj, c.double)
    }
  }
}

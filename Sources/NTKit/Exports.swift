// The engine's users get the file formats (NTKitIO: npy, safetensors, CSV,
// JSON, NTKitError, Tensor) with `import NTKit`.
@_exported import NTKitIO

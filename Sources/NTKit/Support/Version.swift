public enum NTKitVersion { public static let string = "0.1.0" }

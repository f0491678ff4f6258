public enum NTKitVersion { public static let string = "0.4.0" }

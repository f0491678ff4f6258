import NTKit
print(NTKitVersion.string)

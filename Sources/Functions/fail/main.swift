import FDK

// Fails every call: the FDK answers 502, the caller gets 502.
FDK.serve { _ in throw FunctionError("this function always fails") }

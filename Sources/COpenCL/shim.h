// OpenCL 1.2 host API (ocl-icd loader). No stable Swift API.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

"""Where a network runs at inference time: OpenVINO on the CPU, PyTorch elsewhere.

A runner is called like the PyTorch module it wraps: float tensors
``(N, C, H, W)`` in, a float tensor out, on the styliser's device. On a CPU
``auto`` compiles the network with OpenVINO at fp32 (bf16, which OpenVINO
picks by itself on AMX CPUs, moves single pixels by up to 56 of 255 levels)
and caches the exported model per style; where OpenVINO is not installed or
fails, it falls back to PyTorch with one notice line. On CUDA it is PyTorch
(fp16 autocast, batched). Without PyTorch (the light path) there is no module
to convert: export.py writes each network's OpenVINO IR into its weights file
where PyTorch is, and exported.py compiles it from there. This package's top
level imports nothing heavy so that the command line can offer
:data:`RUNTIMES` without loading torch.
"""

RUNTIMES = ("auto", "openvino", "torch")

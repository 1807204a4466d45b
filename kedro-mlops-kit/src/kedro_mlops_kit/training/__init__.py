"""Training: the loop any nn.Module honouring the contract trains in, on CPU, GPU or DDP."""

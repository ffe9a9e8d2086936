"""MNIST in the lecture: the data (IDX files, an opt-in download, the shipped offline subset), the GAN and
adversarial-training models, their trainers and their metrics — one idea per file."""

"""Local augmentation for graph neural networks (LAGNN, Liu et al., ICML 2022).

- :class:`LocalAugmenter`: a conditional VAE of neighbour features given the
  centre node's features, trained on every edge; ``transform`` samples new
  feature matrices; ``save`` / ``load`` keep the trained generator.
- :class:`LAGNN`: any graphbias or PyG convolution (a class, a factory such as
  ``functools.partial``, constructor ``conv_kwargs``) with parallel first layers
  over original and generated features (:mod:`.convs` says how each is built).
- :class:`LAGNNClassifier`: the estimator, a drop-in for
  :class:`graphbias.nn.NodeClassifier` (same ``conv``, ``fit``, ``predict``).
"""
from .augmenter import ConditionedGenerator, LocalAugmenter
from .classifier import LAGNNClassifier
from .generator import ConditionalVAE, train_generator
from .convs import BACKBONES
from .models import LAGNN, consistency_loss

__all__ = ["LocalAugmenter", "ConditionedGenerator", "LAGNNClassifier", "LAGNN",
           "ConditionalVAE", "train_generator", "consistency_loss", "BACKBONES"]

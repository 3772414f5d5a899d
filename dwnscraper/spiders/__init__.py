"""Spiders fetch and discover only: ``sections``, ``feed``, ``archive``, ``articles``."""

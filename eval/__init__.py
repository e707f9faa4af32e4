"""Eval: evaluation runs over question sets (the `reperes eval` command comes with the evaluation issue).

The development question set ships in `eval/data/`.
"""

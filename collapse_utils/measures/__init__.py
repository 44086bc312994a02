"""Measurements of a generation: distances and summaries of fitted distributions,
lexical diversity of text, and the instruments of the image and language-model chapters.

Measures read a :class:`collapse_utils.loop.Step` (its ``model``, ``data`` and
``reference``, generation 0's model) or the samples it draws; they never train
the models they measure.
"""

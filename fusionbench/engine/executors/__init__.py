"""Executors: how runs are carried out (in process, in local worker processes, ...)."""

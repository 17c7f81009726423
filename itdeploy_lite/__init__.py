"""itdeploy_lite: iterative deployment of planning models, reproduced on one machine.

The package reads like the loop of Corrêa et al. (arXiv 2512.24940):
``planning`` (PDDL, grounding, VAL-exact validation, generators, planners) ->
deploy -> curate -> fine-tune -> iterate.
"""

__version__ = "0.1.0"

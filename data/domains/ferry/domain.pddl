; Ferry, typed STRIPS with a negative precondition (IPC 2023 learning-track semantics).
; Written for itdeploy_lite. A ferry that holds one car at a time carries cars between locations.
; As in the learning track's version, sailing needs the ferry not to be at the destination already,
; (not (at-ferry ?to)), instead of the older untyped domain's static (not-eq ?from ?to) facts.
(define (domain ferry)
  (:requirements :strips :typing :negative-preconditions)
  (:types car location)
  (:predicates
    (at-ferry ?l - location)
    (at ?c - car ?l - location)
    (empty-ferry)
    (on ?c - car))

  (:action sail
    :parameters (?from - location ?to - location)
    :precondition (and (at-ferry ?from) (not (at-ferry ?to)))
    :effect (and (at-ferry ?to) (not (at-ferry ?from))))

  (:action board
    :parameters (?car - car ?loc - location)
    :precondition (and (at ?car ?loc) (at-ferry ?loc) (empty-ferry))
    :effect (and (on ?car) (not (at ?car ?loc)) (not (empty-ferry))))

  (:action debark
    :parameters (?car - car ?loc - location)
    :precondition (and (on ?car) (at-ferry ?loc))
    :effect (and (at ?car ?loc) (empty-ferry) (not (on ?car)))))

; Transport, typed STRIPS with a type hierarchy (IPC 2008 semantics, as used by the IPC 2023 learning track).
; Written for itdeploy_lite. ACTION COSTS DROPPED: the IPC 2008 domain charges (road-length ?l1 ?l2) per
; drive and 1 per pick-up and drop (:action-costs); the learning track counts plan length, so this file
; has no costs and no numeric fluents, and every action costs 1.
; As in the learning track's version, capacities are objects of type `size` (the IPC 2008 file calls the
; type capacity-number): (capacity ?v ?s) is a vehicle's free capacity, and (capacity-predecessor ?s1 ?s2)
; says ?s2 is one more than ?s1. Vehicles drive along roads and carry packages.
(define (domain transport)
  (:requirements :strips :typing)
  (:types
    location locatable size - object
    vehicle package - locatable)
  (:predicates
    (road ?l1 - location ?l2 - location)
    (at ?x - locatable ?v - location)
    (in ?x - package ?v - vehicle)
    (capacity ?v - vehicle ?s1 - size)
    (capacity-predecessor ?s1 - size ?s2 - size))

  (:action drive
    :parameters (?v - vehicle ?l1 - location ?l2 - location)
    :precondition (and (at ?v ?l1) (road ?l1 ?l2))
    :effect (and (not (at ?v ?l1)) (at ?v ?l2)))

  (:action pick-up
    :parameters (?v - vehicle ?l - location ?p - package ?s1 - size ?s2 - size)
    :precondition (and (at ?v ?l) (at ?p ?l) (capacity-predecessor ?s1 ?s2) (capacity ?v ?s2))
    :effect (and (not (at ?p ?l)) (in ?p ?v) (capacity ?v ?s1) (not (capacity ?v ?s2))))

  (:action drop
    :parameters (?v - vehicle ?l - location ?p - package ?s1 - size ?s2 - size)
    :precondition (and (at ?v ?l) (in ?p ?v) (capacity-predecessor ?s1 ?s2) (capacity ?v ?s1))
    :effect (and (not (in ?p ?v)) (at ?p ?l) (capacity ?v ?s2) (not (capacity ?v ?s1)))))

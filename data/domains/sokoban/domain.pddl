; Sokoban, typed STRIPS, unit cost (the IPC 2023 learning-track formulation). Written for itdeploy_lite.
; (clear ?l) means "no box on ?l": the robot's own cell is clear. Directions are constants.
(define (domain sokoban)
  (:requirements :strips :typing)
  (:types location direction box)
  (:constants up down left right - direction)
  (:predicates
    (at-robot ?l - location)
    (at ?o - box ?l - location)
    (adjacent ?l1 - location ?l2 - location ?d - direction)
    (clear ?l - location))

  (:action move
    :parameters (?from - location ?to - location ?dir - direction)
    :precondition (and (at-robot ?from) (clear ?to) (adjacent ?from ?to ?dir))
    :effect (and (at-robot ?to) (not (at-robot ?from))))

  (:action push
    :parameters (?rloc - location ?bloc - location ?floc - location ?dir - direction ?b - box)
    :precondition (and (at-robot ?rloc) (at ?b ?bloc) (clear ?floc)
                       (adjacent ?rloc ?bloc ?dir) (adjacent ?bloc ?floc ?dir))
    :effect (and (at-robot ?bloc) (at ?b ?floc) (clear ?bloc)
                 (not (at-robot ?rloc)) (not (at ?b ?bloc)) (not (clear ?floc)))))

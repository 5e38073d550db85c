import EvalhCore

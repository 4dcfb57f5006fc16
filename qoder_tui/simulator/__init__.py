"""An embedded simulator of the Qoder Cloud Agents API, for demos, tests and benchmarks."""

from .app import Faults, SimConfig, Simulator
from .scenarios import World, WorldConfig
from .server import SimulatorServer

__all__ = ["Faults", "SimConfig", "Simulator", "SimulatorServer", "World", "WorldConfig"]

"""ltc_control: liquid neural network policies for robot arms behind a CBF safety filter."""

__version__ = "0.1.0"

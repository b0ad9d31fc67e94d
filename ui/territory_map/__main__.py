"""Write the demo's map polygons ahead of the first visit: ``python -m ui.territory_map``."""

from planner.data.demo import load_demo
from ui.territory_map.layer import write_layer
from ui.territory_view import unit_details

if __name__ == "__main__":
    units = load_demo().units
    layer = write_layer(units, details=unit_details(units))
    print(f"demo map polygons: {layer.url}")

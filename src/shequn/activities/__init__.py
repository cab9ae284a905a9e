"""Activities (活动): declared in `activities/*.yaml`, promoted by the SOP engine, measured."""

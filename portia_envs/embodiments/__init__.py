"""Robot bodies built from code with named joints, sites, actuators and sensors."""

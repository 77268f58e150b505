/// The features of one synthetic touch (finger 1, impression 1, 160 px at 500 dpi): the probe the
/// `template_match` target and its corpus replay score fuzzed templates against.
pub fn probe() -> fphal::matcher::Features {
    let touch = fphal_synth::Touch::nth(1, 1, 160, 500);
    let i = fphal_synth::impression(&fphal_synth::Master::grow(1), &touch);
    let image = fphal::image::GrayImage::new(i.width, i.height, i.dpi, i.pixels).expect("a synthetic touch is an image");
    fphal::matcher::extract(&image).expect("a synthetic touch has features")
}

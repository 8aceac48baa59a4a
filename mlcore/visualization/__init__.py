"""keras.visualization: bounding boxes and segmentation masks drawn onto images (numpy out, no OpenCV
needed), and matplotlib galleries of images, of boxes and of masks."""
from mlcore.visualization.draw_bounding_boxes import draw_bounding_boxes
from mlcore.visualization.draw_segmentation_masks import draw_segmentation_masks
from mlcore.visualization.plot_bounding_box_gallery import plot_bounding_box_gallery
from mlcore.visualization.plot_image_gallery import plot_image_gallery
from mlcore.visualization.plot_segmentation_mask_gallery import plot_segmentation_mask_gallery

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "plot_bounding_box_gallery", "plot_image_gallery",
           "plot_segmentation_mask_gallery"]
